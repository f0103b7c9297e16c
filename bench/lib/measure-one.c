/*
 * measure-one: runs one command and reports what the kernel says about it.
 *
 *   measure-one <stdout-file> <stderr-file> <timeout-s> <program> [args...]
 *
 * Prints "<wall_ns> <user_us> <sys_us> <maxrss_kib> <wait_status> <timed_out>"
 * on its own stdout. The command gets this process's environment unchanged
 * (the caller passes exactly the agent's), stdin from /dev/null.
 *
 * Why C: ru_maxrss counts the memory image a process had before its execve.
 * A child forked (or vforked) by Python or Node starts out with their 10-40 MB
 * image and would report at least that; forked from this small program the
 * floor is about 1 MB (the bench measures and reports it). wait4() also gives
 * user+sys of the command and of every child it waited for, to the
 * microsecond, which Node's child_process cannot, and GNU time prints 10 ms
 * steps. The clock runs from just before fork to just after wait4 returns.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile pid_t child = 0;
static volatile sig_atomic_t timed_out = 0;

static void on_alarm(int sig) {
	(void)sig;
	timed_out = 1;
	if (child > 0) kill(child, SIGKILL); /* our own child, by PID */
}

static int redirect(const char *path, int fd, int flags) {
	int f = open(path, flags, 0600);
	if (f < 0 || dup2(f, fd) < 0) return -1;
	if (f != fd) close(f);
	return 0;
}

int main(int argc, char **argv) {
	if (argc < 5) {
		fprintf(stderr, "usage: measure-one <stdout-file> <stderr-file> <timeout-s> <program> [args...]\n");
		return 2;
	}
	struct sigaction sa = {0};
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("measure-one: fork");
		return 1;
	}
	if (pid == 0) {
		if (redirect("/dev/null", 0, O_RDONLY) || redirect(argv[1], 1, O_WRONLY | O_CREAT | O_TRUNC) || redirect(argv[2], 2, O_WRONLY | O_CREAT | O_TRUNC)) _exit(126);
		execv(argv[4], argv + 4);
		_exit(127);
	}
	child = pid;
	alarm((unsigned)atoi(argv[3]));
	int status = 0;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("measure-one: wait4");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	alarm(0);
	long long wall = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	long long user = (long long)ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec;
	long long sys = (long long)ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec;
	printf("%lld %lld %lld %ld %d %d\n", wall, user, sys, ru.ru_maxrss, status, (int)timed_out);
	return 0;
}
