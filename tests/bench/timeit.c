/* timeit.c - runs a command and appends "wall user sys status" (seconds,
   microsecond resolution) to a file: the stopwatch of tests/bench/run.sh,
   the same for every client. Wall clock from fork to exit (process start
   included), CPU time of the command and its children from wait4().
   usage: timeit OUTFILE CMD [ARGS...] */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

static double tv(struct timeval t) { return (double)t.tv_sec + (double)t.tv_usec / 1e6; }

int main(int argc, char **argv)
{
    struct timespec a, b;
    struct rusage ru;
    int status = 0;
    pid_t pid;
    FILE *f;
    if (argc < 3) { fprintf(stderr, "usage: timeit OUTFILE CMD [ARGS...]\n"); return 2; }
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) < 0) { perror("wait4"); return 1; }
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (!(f = fopen(argv[1], "a"))) { perror(argv[1]); return 1; }
    fprintf(f, "%.6f %.6f %.6f %d\n",
            (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9,
            tv(ru.ru_utime), tv(ru.ru_stime),
            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    fclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
