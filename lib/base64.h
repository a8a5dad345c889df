/* base64.h: RFC 4648 base64, shared by SASL (strict) and MIME decoding. */
#ifndef BASE64_H
#define BASE64_H

#include <stddef.h>

#include "buf.h"

/* Append the base64 of data[0..len) with '=' padding. */
void base64_encode(const void *data, size_t len, struct buf *out);
/* Strict decoding: the length is a multiple of 4, only the alphabet and
 * final '=' padding. Appends the bytes and returns 0, or ERR_SYNTAX with
 * out left as it was. */
int base64_decode(const char *in, size_t len, struct buf *out);
/* The 6-bit value of an alphabet character, or -1. */
int base64_value(unsigned char c);

#endif
