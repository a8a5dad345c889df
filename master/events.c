/* events.c: EVENTS entries.
 *
 * As in Cyrus, an event with period=N (minutes) runs when master starts and
 * then every N minutes; at=hhmm runs daily at that local time; cron= runs
 * on a five-field schedule; an event with none of them runs once at
 * startup. If the previous run of an event is still going when the next is
 * due, the new run is skipped (and logged) rather than piled up. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "cron.h"
#include "log.h"
#include "master.h"
#include "util.h"
#include "xmalloc.h"

/* Wall-clock waits are re-checked at least this often (clock changes). */
#define EVENTS_MAX_SLEEP_MS (3600u * 1000u)

struct event {
    struct master *m;
    char *name;
    char *cmd;
    struct strarray argv;
    long period;       /* minutes */
    int at;            /* hhmm or -1 */
    char *cron_spec;   /* or NULL */
    struct cron *cron; /* at= or cron=, NULL for period */
    time_t due;        /* next wall-clock run for cron */
    long timer;
    pid_t pid; /* running instance, 0: none */
    struct event *next;
};

static void event_timer_cb(struct loop *l, long id, void *ctx);

static struct event *
event_new(struct master *m, const struct masterconf_entry *e)
{
    struct event *ev = xzmalloc(sizeof(*ev));
    const char *why;
    size_t i;

    ev->m = m;
    ev->name = xstrdup(e->name);
    ev->cmd = xstrdup(e->cmd);
    for (i = 0; i < e->argv.count; i++)
        strarray_append(&ev->argv, e->argv.data[i]);
    ev->period = e->period;
    ev->at = e->at;
    ev->cron_spec = xstrdupnull(e->cron);
    /* the parser validated both already */
    if (e->cron)
        cron_parse(e->cron, &ev->cron, &why);
    else if (e->at >= 0)
        cron_daily(e->at, &ev->cron);
    return ev;
}

static void
event_free(struct event *ev)
{
    if (ev->timer)
        loop_cancel_timer(ev->m->loop, ev->timer);
    free(ev->name);
    free(ev->cmd);
    free(ev->cron_spec);
    cron_free(&ev->cron);
    strarray_fini(&ev->argv);
    free(ev);
}

static void
event_arm(struct event *ev, unsigned ms)
{
    if (ev->timer)
        loop_cancel_timer(ev->m->loop, ev->timer);
    ev->timer = loop_add_timer(ev->m->loop, ms, event_timer_cb, ev);
}

/* Arm the timer for the next cron time after now. */
static void
event_arm_cron(struct event *ev)
{
    time_t now = time(NULL);
    unsigned ms;

    ev->due = cron_next(ev->cron, now);
    if (ev->due < 0) {
        log_msg(LOG_WARNING, "event %s: schedule never matches", ev->name);
        return;
    }
    ms = (uint64_t)(ev->due - now) * 1000 > EVENTS_MAX_SLEEP_MS
             ? EVENTS_MAX_SLEEP_MS
             : (unsigned)(ev->due - now) * 1000;
    event_arm(ev, ms);
}

static void
event_run(struct event *ev)
{
    struct child_spec spec = {CHILD_EVENT, ev->name, &ev->argv, -1, -1, 0};
    struct child *c;
    char *err = NULL;

    if (ev->pid) {
        log_msg(LOG_NOTICE,
                "event %s: previous run (pid %ld) still going, "
                "skipped",
                ev->name, (long)ev->pid);
        return;
    }
    c = children_spawn(ev->m, &spec, &err);
    if (c == NULL) {
        log_msg(LOG_ERR, "event %s: %s", ev->name, err);
        free(err);
        return;
    }
    ev->pid = c->pid;
}

static void
event_timer_cb(struct loop *l, long id, void *ctx)
{
    struct event *ev = ctx;

    ev->timer = 0;
    if (ev->m->shutting_down)
        return;
    if (ev->cron) {
        /* otherwise this was a capped sleep, or the clock changed */
        if (time(NULL) >= ev->due)
            event_run(ev);
        event_arm_cron(ev);
        return;
    }
    event_run(ev);
    if (ev->period > 0)
        event_arm(ev, (unsigned)ev->period * 60u * 1000u);
}

static void
event_schedule(struct event *ev)
{
    if (ev->cron)
        event_arm_cron(ev);
    else
        event_arm(ev, 0); /* now: period events and one-shots */
}

static void
events_append(struct master *m, struct event *ev)
{
    struct event **ep = &m->events;

    while (*ep)
        ep = &(*ep)->next;
    ev->next = NULL;
    *ep = ev;
}

void
events_start(struct master *m)
{
    size_t i, n = masterconf_count(m->conf, MASTERCONF_EVENTS);

    for (i = 0; i < n; i++) {
        struct event *ev =
            event_new(m, masterconf_entry(m->conf, MASTERCONF_EVENTS, i));

        events_append(m, ev);
        event_schedule(ev);
    }
}

static int
event_same(const struct event *ev, const struct masterconf_entry *e)
{
    return strcmp(ev->cmd, e->cmd) == 0 && ev->period == e->period
           && ev->at == e->at && util_strcmpsafe(ev->cron_spec, e->cron) == 0;
}

void
events_reload(struct master *m, const struct masterconf *newconf)
{
    struct event *old = m->events, *ev, **ep;
    size_t i, n = masterconf_count(newconf, MASTERCONF_EVENTS);

    m->events = NULL;
    for (i = 0; i < n; i++) {
        const struct masterconf_entry *e =
            masterconf_entry(newconf, MASTERCONF_EVENTS, i);

        for (ep = &old; *ep; ep = &(*ep)->next) {
            if (strcmp((*ep)->name, e->name) == 0 && event_same(*ep, e))
                break;
        }
        if (*ep) {
            /* unchanged: keep its timing */
            ev = *ep;
            *ep = ev->next;
            events_append(m, ev);
            continue;
        }
        log_msg(LOG_NOTICE, "event %s: (re)scheduled", e->name);
        ev = event_new(m, e);
        events_append(m, ev);
        event_schedule(ev);
    }
    while (old) {
        ev = old;
        old = ev->next;
        /* a running instance is left to finish and is reaped as usual */
        event_free(ev);
    }
}

void
events_child_exited(struct master *m, struct child *c, int status)
{
    struct event *ev;
    char text[64];

    for (ev = m->events; ev; ev = ev->next) {
        if (ev->pid == c->pid)
            ev->pid = 0;
    }
    children_status_text(status, text, sizeof(text));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        log_msg(LOG_DEBUG, "event %s pid %ld %s", c->name, (long)c->pid, text);
    else
        log_msg(c->signalled ? LOG_NOTICE : LOG_WARNING, "event %s pid %ld %s",
                c->name, (long)c->pid, text);
}

void
events_stop(struct master *m)
{
    struct event *ev;

    for (ev = m->events; ev; ev = ev->next) {
        if (ev->timer)
            loop_cancel_timer(m->loop, ev->timer);
        ev->timer = 0;
    }
}

void
events_free_all(struct master *m)
{
    struct event *ev;

    while ((ev = m->events) != NULL) {
        m->events = ev->next;
        event_free(ev);
    }
}
