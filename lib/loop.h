/* loop.h: a small event loop over file descriptors, timers and signals.
 *
 * One loop serves one thread. It waits with poll(2) on every registered fd,
 * fires timers whose deadline has passed (monotonic clock, milliseconds) and
 * delivers signals through a self-pipe, so signal callbacks run in normal
 * context, never inside the signal handler: they may allocate, log, fork.
 *
 * Callbacks may add, modify or delete any fd, timer or signal of the loop,
 * including their own, and may call loop_stop(). A callback is never called
 * for an fd after loop_del_fd() returned for it, even within the same
 * iteration, nor for a registration made after the poll that reported the
 * event (a reused fd number is a new registration).
 *
 * Signals are process-wide: only one loop at a time may own signal
 * callbacks (the signal handler needs the loop's pipe, and a handler gets no
 * context argument, so loop.c keeps the owner in one static). */
#ifndef LOOP_H
#define LOOP_H

#include <stdint.h>

struct loop;

/* Interest and readiness bits. */
#define LOOP_READ  0x1u
#define LOOP_WRITE 0x2u
/* Only ever reported, never requested: the peer hung up or the fd is in
 * error; a read() or write() will say which. Reported together with the
 * interest bits registered, so a reader sees EOF by reading. */
#define LOOP_HUP 0x4u

/* events: the bits that are ready (LOOP_READ, LOOP_WRITE, LOOP_HUP). */
typedef void loop_fd_cb(struct loop *l, int fd, unsigned events, void *ctx);
/* Timers fire once; id is the value loop_add_timer() returned. */
typedef void loop_timer_cb(struct loop *l, long id, void *ctx);
typedef void loop_signal_cb(struct loop *l, int signo, void *ctx);

/* A new empty loop; never NULL (aborts on OOM or when no pipe can be made,
 * which only happens when the process is out of fds at startup). */
struct loop *loop_new(void);
/* Restores the default action of every signal it handled, closes its own
 * pipe (not the registered fds) and sets *lp to NULL. NULL is fine. */
void loop_free(struct loop **lp);

/* Watch fd for events (LOOP_READ and/or LOOP_WRITE; 0 keeps the fd
 * registered but not polled). The loop never closes fd.
 * Returns 0, ERR_INVALID for a negative fd or unknown bits, ERR_EXISTS if fd
 * is already registered. */
int loop_add_fd(struct loop *l, int fd, unsigned events, loop_fd_cb *cb,
                void *ctx);
/* Change the interest set. 0 or ERR_NOTFOUND. */
int loop_mod_fd(struct loop *l, int fd, unsigned events);
/* Forget fd (call before closing it). 0 or ERR_NOTFOUND. */
int loop_del_fd(struct loop *l, int fd);

/* Call cb once, ms milliseconds from now (0: at the next iteration, after
 * pending fd events). Returns an id > 0, unique for the loop's lifetime. */
long loop_add_timer(struct loop *l, unsigned ms, loop_timer_cb *cb, void *ctx);
/* Cancel a timer that has not fired. 0, or ERR_NOTFOUND if it fired or
 * was cancelled already. */
int loop_cancel_timer(struct loop *l, long id);

/* Deliver signo to cb from the loop. Several deliveries of the same signal
 * between two iterations may be merged into one call (as the kernel does).
 * Installs a handler with SA_RESTART; SIGKILL/SIGSTOP are refused.
 * Returns 0, ERR_INVALID (bad signal), ERR_EXISTS (already handled by this
 * loop) or ERR_CONFLICT (another loop owns signals). */
int loop_add_signal(struct loop *l, int signo, loop_signal_cb *cb, void *ctx);
/* Restore the default action of signo. 0 or ERR_NOTFOUND. */
int loop_del_signal(struct loop *l, int signo);
/* In a child right after fork(): reset every signal this loop handles to
 * its default action, so the child never writes into the parent's pipe and
 * an exec'd program starts with default dispositions. Does not free l. */
void loop_fork_reset(struct loop *l);

/* Wait at most timeout_ms (-1: until something happens; 0: do not block),
 * and less if a timer is due sooner, then dispatch what is ready: fd
 * callbacks, then signal callbacks, then due timers. Returns the number of
 * callbacks made (>= 0), or ERR_IO if poll() failed other than by EINTR. */
int loop_run_once(struct loop *l, int timeout_ms);
/* Dispatch until a callback calls loop_stop(). Returns 0, or ERR_IO as
 * loop_run_once(). A stop request made before loop_run() is forgotten, and
 * calling loop_run() again after it returned runs again. */
int loop_run(struct loop *l);
/* From a callback: dispatch nothing more in this round (the remaining ready
 * events stay ready for the next one) and make loop_run() return. */
void loop_stop(struct loop *l);

/* Number of registered fds and pending timers (for tests and sanity). */
unsigned loop_fd_count(const struct loop *l);
unsigned loop_timer_count(const struct loop *l);

#endif
