/*
 * Broken probe: computes correctly, but once loaded it changes its host's FP control
 * state behind its back.  A constructor arms an interval timer whose SIGALRM handler
 * sets MXCSR's rounding control to toward-zero in the interrupted context (the
 * kernel restores the FP state from that context when the handler returns, so this
 * is how a handler's change outlives it).  The state is right at load and the
 * probe's own calls restore the caller's state: only a host that reads its state
 * before each call sees it change between calls.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <ucontext.h>

#define TEECERT_PROBE_NAME "teecert-zoo-fp-async"

#include "probe.c"

#if defined(__x86_64__) && defined(__linux__)
static void teecert_zoo_on_alarm(int sig, siginfo_t *info, void *ctx)
{
    ucontext_t *uc = (ucontext_t *)ctx;
    (void)sig;
    (void)info;
    if (uc->uc_mcontext.fpregs != NULL)
        uc->uc_mcontext.fpregs->mxcsr |= 0x6000u; /* RC = 11: toward zero */
}

__attribute__((constructor)) static void teecert_zoo_arm_timer(void)
{
    struct sigaction act;
    struct itimerval it;
    memset(&act, 0, sizeof act);
    act.sa_sigaction = teecert_zoo_on_alarm;
    act.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&act.sa_mask);
    sigaction(SIGALRM, &act, NULL);
    memset(&it, 0, sizeof it);
    it.it_value.tv_usec = 20000;
    it.it_interval.tv_usec = 20000;
    setitimer(ITIMER_REAL, &it, NULL);
}
#endif
