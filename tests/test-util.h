/* SPDX-License-Identifier: MIT */
/*
 * test-util.h: the few helpers every C test shares.
 *
 *   CHECK(cond)            fail (exit 1) with file:line and the condition
 *   CHECK_EQ(a, b)         same, printing both values (as long long)
 *   CHECK_STR(a, b)        string equality, printing both
 *   CHECK_SOFT(cond, fmt, ...)
 *                          on failure print file:line, the condition and the
 *                          message, count it in test_failures and go on
 *   skip(fmt, ...)         print "SKIP: why" and exit 77 (CTest counts it skipped)
 *   watchdog(seconds)      a hang becomes a failure: SIGALRM prints and _exit(1)s
 *   expect_death(fn, arg, needle)
 *                          run fn(arg) in a forked child; true when the child
 *                          died of SIGABRT and its stderr contains needle
 *   MML_TEST_SCALE         iteration divisor: 4 under ThreadSanitizer, else 1
 *
 * Header-only on purpose: each test is one file, compiled alone.
 */
#ifndef MML_TEST_UTIL_H
#define MML_TEST_UTIL_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__)
#define MML_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MML_TEST_TSAN 1
#endif
#endif
#ifdef MML_TEST_TSAN
#define MML_TEST_SCALE 4
#else
#define MML_TEST_SCALE 1
#endif

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
				#cond);                                               \
			exit(1);                                                      \
		}                                                                     \
	} while (0)

/* Non-fatal: the test runs to its end and exits non-zero if test_failures. */
static int test_failures __attribute__((unused));

#define CHECK_SOFT(cond, ...)                                                         \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, \
				#cond);                                               \
			fprintf(stderr, __VA_ARGS__);                                 \
			fputc('\n', stderr);                                          \
			test_failures++;                                              \
		}                                                                     \
	} while (0)

#define CHECK_EQ(a, b)                                                                \
	do {                                                                          \
		long long _a = (long long)(a), _b = (long long)(b);                   \
		if (_a != _b) {                                                       \
			fprintf(stderr, "%s:%d: CHECK_EQ failed: %s = %lld, %s = %lld\n", \
				__FILE__, __LINE__, #a, _a, #b, _b);                  \
			exit(1);                                                      \
		}                                                                     \
	} while (0)

#define CHECK_STR(a, b)                                                               \
	do {                                                                          \
		const char *_a = (a), *_b = (b);                                      \
		if (!_a || !_b || strcmp(_a, _b)) {                                   \
			fprintf(stderr, "%s:%d: CHECK_STR failed: \"%s\" != \"%s\"\n",  \
				__FILE__, __LINE__, _a ? _a : "(null)", _b ? _b : "(null)"); \
			exit(1);                                                      \
		}                                                                     \
	} while (0)

static inline __attribute__((noreturn, format(printf, 1, 2), unused)) void
skip(const char *fmt, ...)
{
	va_list ap;

	printf("SKIP: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(77);
}

static void __attribute__((unused)) mml_test_alarm(int sig)
{
	static const char msg[] = "FAIL: watchdog expired (a hang, e.g. a lost wake-up)\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to do */
	}
	_exit(1);
}

/* Fail instead of hanging: after `seconds`, print and exit 1. */
static inline void __attribute__((unused)) watchdog(unsigned int seconds)
{
	signal(SIGALRM, mml_test_alarm);
	alarm(seconds);
}

/*
 * Run fn(arg) in a child with stderr captured; true when the child was
 * killed by SIGABRT and printed something containing needle. Call it while
 * the process is single-threaded (fork and threads do not mix).
 */
static inline bool __attribute__((unused))
expect_death(void (*fn)(void *), void *arg, const char *needle)
{
	char buf[4096];
	int pfd[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if (pipe(pfd) < 0)
		return false;
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], 2);
		signal(SIGALRM, SIG_DFL);
		alarm(20);
		fn(arg);
		_exit(0);	/* survived: not a death */
	}
	close(pfd[1]);
	while (len < sizeof(buf) - 1 && (n = read(pfd[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(pfd[0]);
	if (waitpid(pid, &status, 0) != pid)
		return false;
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) {
		fprintf(stderr, "expect_death: child did not abort (status 0x%x), stderr: %s\n",
			status, buf);
		return false;
	}
	if (!strstr(buf, needle)) {
		fprintf(stderr, "expect_death: wanted \"%s\" in the child's stderr: %s\n", needle,
			buf);
		return false;
	}
	return true;
}

#endif /* MML_TEST_UTIL_H */
