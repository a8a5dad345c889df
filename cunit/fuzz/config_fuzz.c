/* config_fuzz.c: imapd.conf text from the fuzzer into config_load_text().
 *
 * The first byte picks the service the file is loaded for (none, or one
 * of a few that appear in service-form keys), the rest is the file. A
 * successful load is then read through every getter, so a value the
 * line pass accepted but the final pass mishandles shows up too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "strarray.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
read_everything(const struct config *c)
{
    struct strarray keys = STRARRAY_INITIALIZER;
    int i;

    for (i = 0; i < CFG__COUNT; i++) {
        switch (config_option_type(i)) {
        case CFG_STRING:
            (void)config_str(c, i);
            break;
        case CFG_INT:
            (void)config_int(c, i);
            break;
        case CFG_SWITCH:
            (void)config_switch(c, i);
            break;
        case CFG_ENUM:
        case CFG_STRINGLIST:
            if (config_enum(c, i) == NULL && config_option_default(i))
                abort();
            break;
        case CFG_BITFIELD:
            (void)config_bits(c, i);
            break;
        case CFG_DURATION:
            if (config_duration(c, i) < -1)
                abort();
            break;
        case CFG_BYTESIZE:
            if (config_bytesize(c, i) < -1)
                abort();
            break;
        }
        (void)config_overflow(c, config_option_name(i));
    }
    if (config_str(c, CFG_CONFIGDIRECTORY) == NULL)
        abort();
    (void)config_partition_dir(c, "default");
    (void)config_overflow(c, "sasl_mech_list");
    config_overflow_keys(c, "", &keys);
    strarray_fini(&keys);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const services[] = {NULL, "imap", "lmtp", "pop3"};
    const char *service;
    struct config *c;
    char *err = NULL;

    if (size == 0)
        return 0;
    service = services[data[0] % 4];
    c = config_load_text((const char *)data + 1, size - 1, "fuzz.conf", service,
                         &err);
    if (c == NULL) {
        /* every failure explains itself, naming the file */
        if (err == NULL || strncmp(err, "fuzz.conf", 9) != 0)
            abort();
    } else {
        if (err != NULL)
            abort();
        read_everything(c);
    }
    free(err);
    config_free(&c);
    return 0;
}
