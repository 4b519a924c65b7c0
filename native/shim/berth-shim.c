/*
 * berth-shim — one small supervisor per container (like conmon / containerd-shim).
 *
 * It holds the container's stdio, writes its log, keeps its exit status, and lets the container
 * outlive the daemon (even a SIGKILL of the daemon's whole process group).
 *
 * LIFECYCLE
 *   berth-shim --id ID --bundle DIR --runtime /usr/bin/crun --log LOG --socket SOCK --exit EXITJSON
 *              [--stdin] [--tty] [--cgroup /berth/ID] [--runtime-root DIR]
 *              [--log-max-size BYTES [--log-max-files K]]
 *              [--lower L1:L2:... --upper U --work W --target T [--mount-cwd D]]
 *
 *   fd 1 is the sync pipe to the daemon.  The spawned process forks once and exits at once, so the
 *   shim is never the daemon's child after startup; the forked shim calls setsid() (own session,
 *   out of the daemon's process group) and PR_SET_CHILD_SUBREAPER, mounts the overlay rootfs with
 *   mount(2) (when --lower/--target are given; --mount-cwd chdirs first so long lowerdir lists can
 *   use relative paths and fit in the one-page mount data; --lower "" bind-mounts --upper instead),
 *   creates the listening socket, and writes one line to the sync pipe:
 *       "ready <shimpid>\n"   or   "error <text>\n"   (then exits, leaving nothing mounted)
 *   The daemon connects and sends GO; only then the shim runs
 *       <runtime> [--root R] run --detach --pid-file <bundle>/container.pid --bundle <bundle> <id>
 *   with stdout/stderr pipes and stdin a pipe (--stdin) or /dev/null.  The container's pipes are
 *   read only after the runtime has exited: on failure whatever the runtime wrote on stderr is the
 *   error text (sent as START_ERROR; the shim then deletes, unmounts, and exits without an exit
 *   file); on success the pid file gives the init pid (STARTED).  The init reparents to the shim
 *   (subreaper) and is waitpid()ed.  Without a GO within 60 s the shim unmounts and exits.
 *
 *   On the init's exit: drain stdout/stderr (until EOF, at most 2 s), read OOM kills from the
 *   memory cgroup, run "<runtime> delete --force <id>", umount2(target, MNT_DETACH), write the exit
 *   file atomically (tmp + fsync + rename + fsync dir; the tmp file's space is reserved when the
 *   shim starts, so a disk that filled up meanwhile still gets the status) as
 *       {"exitCode":N,"finishedAt":"RFC3339Nano","oomKilled":false}
 *   (exitCode = code, or 128+signal), send EXIT to every client, flush (at most 2 s), remove the
 *   socket, exit.  Cleanup happens BEFORE the exit is announced, so a daemon that restarts the
 *   container right after EXIT never races with this shim's umount.
 *   SIGTERM/SIGINT to the shim: SIGKILL the container, then the normal exit path.
 *
 *   TTY (--tty; the spec must have process.terminal = true): the shim listens on
 *   <bundle>/console.sock and passes --console-socket to the runtime, which sends the pty master
 *   over it (SCM_RIGHTS).  The master then carries all output (as STDOUT records) and receives
 *   STDIN frames; RESIZE sets its window size (TIOCSWINSZ); STDIN_CLOSE is ignored.
 *
 * EXEC MODE (--exec-process FILE; docker exec)
 *   berth-shim --id CONTAINER_ID --bundle EXECDIR --runtime BIN --log "" --socket EXECDIR/shim.sock
 *              --exit EXECDIR/exit.json --exec-process EXECDIR/process.json [--stdin] [--tty]
 *              [--console-size ROWS,COLS]  (TTY: set on the terminal the moment the runtime hands
 *              it over; crun applies process.consoleSize only after the process may have run)
 *   Runs "<runtime> [--root R] exec --detach --pid-file EXECDIR/container.pid --process FILE
 *   [--console-socket EXECDIR/console.sock] <id>" on GO, in the running container CONTAINER_ID.
 *   No rootfs is mounted, no "delete" is run and nothing is unmounted; --log "" writes no log
 *   (docker exec output is not part of the container's log).  Start errors, stdio, stdin, resize,
 *   the exit file and the socket frames are exactly as for a container.
 *
 * SOCKET PROTOCOL (SOCK_STREAM, both directions the same framing)
 *   frame = u8 type | u8 flags | u16 reserved(0) | u32 length (LE) | payload[length]
 *   shim -> client
 *     0x01 STDOUT, 0x02 STDERR   payload = u64 timeNs (LE) | data;  flags bit0 = partial (no '\n')
 *     0x03 STARTED               payload = JSON {"pid":N,"startedAt":"..."}
 *     0x04 START_ERROR           payload = the runtime's error text
 *     0x05 EXIT                  payload = JSON (same as the exit file)
 *     0x06 HELLO                 payload = JSON {"shimPid":N,"state":"created|starting|running|exited",
 *                                 "pid":N,"startedAt":"..."}; sent first on every connection
 *     0x07 LOG_ERROR             payload = text for the daemon's log: the first log record the shim
 *                                 could not write (disk full), then when writing resumed (and how
 *                                 many records were dropped)
 *   client -> shim
 *     0x10 GO                    start the container (first GO wins; later ones are ignored)
 *     0x11 STDIN                 payload = bytes for the container's stdin
 *     0x12 STDIN_CLOSE
 *     0x13 RESIZE                payload = u16 height | u16 width (LE; TTY only)
 *   Any number of clients (<= 64).  Output to a client is buffered; a client whose buffer exceeds
 *   8 MiB is disconnected (the log file is the source of truth).  A client that goes away never
 *   affects the container.
 *
 * LOG FORMAT (the file at --log; append-only; readers: src/engine/runtime/logfile.ts)
 *   record = header(16) | payload[len] | trailer(4)
 *     header : u8 magic 0xB7 | u8 stream (1 stdout, 2 stderr) | u8 flags (bit0 partial) | u8 0
 *              | u32 len (LE) | u64 timeNs (LE, ns since the epoch)
 *     trailer: u32 len (LE) again, so the file can be read backwards (tail)
 *   Output is split into records at '\n' (the newline stays in the payload); a record is at most
 *   16 KiB; whatever is read without a newline becomes a partial record at once (no buffering,
 *   so prompts reach attached clients immediately).  A write error (disk full) drops the record
 *   and counts it, and a short write is cut off again (ftruncate), so no torn record stays in the
 *   file; the container never blocks on the log.  Attached clients still get every record.
 *   Rotation (--log-max-size BYTES, --log-max-files K, default 5): before a record would push LOG
 *   past the size, LOG.(K-2)…LOG.1 shift up, LOG becomes LOG.1 and a new LOG starts (K = 1:
 *   truncate).  Records never straddle files.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define F_STDOUT 0x01
#define F_STDERR 0x02
#define F_STARTED 0x03
#define F_START_ERROR 0x04
#define F_EXIT 0x05
#define F_HELLO 0x06
#define F_LOG_ERROR 0x07
#define F_GO 0x10
#define F_STDIN 0x11
#define F_STDIN_CLOSE 0x12
#define F_RESIZE 0x13

#define MAX_CLIENTS 64
#define MAX_RECORD (16 * 1024)
#define CLIENT_OUT_CAP (8u << 20)
#define CLIENT_IN_MAX ((1u << 20) + 8)
#define STDIN_CAP (1u << 20)
#define READ_CHUNK (64 * 1024)

static const char *o_id, *o_bundle, *o_runtime, *o_log, *o_sock, *o_exit, *o_lower, *o_upper,
    *o_work, *o_target, *o_mount_cwd, *o_cgroup, *o_root, *o_exec_process;
static int o_stdin, o_tty;
static long long o_log_max; /* bytes; 0 = no rotation */
static int o_log_files = 5;
static long long log_size;
static int console_lfd = -1;
static char console_path[4200];

/*
 * Unix socket paths are limited to 108 bytes, container folders under a long data root are not.
 * A long path is reached through a descriptor of its folder: /proc/self/fd/N/name for the shim
 * itself, /proc/<shim pid>/fd/N/name for the runtime it spawns.
 */
static int bundle_dirfd = -1;
static const char *sock_path(const char *full, char *buf, size_t len, int for_child) {
  if (strlen(full) < sizeof(((struct sockaddr_un *)0)->sun_path)) return full;
  const char *slash = strrchr(full, '/');
  if (!slash) return full;
  if (bundle_dirfd < 0) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - full), full);
    bundle_dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (bundle_dirfd < 0) return full;
  }
  if (for_child) snprintf(buf, len, "/proc/%d/fd/%d/%s", (int)getpid(), bundle_dirfd, slash + 1);
  else snprintf(buf, len, "/proc/self/fd/%d/%s", bundle_dirfd, slash + 1);
  return buf;
}

enum state { ST_CREATED, ST_STARTING, ST_RUNNING, ST_EXITED };
static enum state st = ST_CREATED;
static int mounted;

struct buf { char *p; size_t len, cap; };
struct client { int fd; struct buf in, out; int closing; };
static struct client clients[MAX_CLIENTS];
static int nclients;

static int lfd = -1, sigfd = -1, logfd = -1;
static int out_rd = -1, err_rd = -1, in_wr = -1;
static struct buf stdin_buf;
static int stdin_close_pending;
static pid_t runtime_pid = -1, init_pid = -1;
static int init_status;
static char started_at[64], finished_at[64];
static uint64_t dropped_records;
static int exit_tmp_fd = -1; /* the exit file's reserved space (reserve_exit_file) */

static void exit_tmp_path(char *out, size_t n) { snprintf(out, n, "%s.tmp", o_exit); }

/* leaving without an exit status: the reservation goes */
static void drop_exit_reservation(void) {
  if (exit_tmp_fd < 0) return;
  char tmp[4200];
  exit_tmp_path(tmp, sizeof tmp);
  close(exit_tmp_fd);
  exit_tmp_fd = -1;
  unlink(tmp);
}

/* statuses of children reaped before we knew the init's pid */
static struct { pid_t pid; int status; } early[64];
static int nearly;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000ull + (uint64_t)ts.tv_nsec / 1000000ull;
}

/* Go's RFC3339Nano: trailing zeros of the fraction trimmed, UTC "Z". */
static void rfc3339nano(uint64_t ns, char *out, size_t n) {
  time_t s = (time_t)(ns / 1000000000ull);
  unsigned long frac = (unsigned long)(ns % 1000000000ull);
  struct tm tm;
  gmtime_r(&s, &tm);
  char base[40];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  if (frac == 0) { snprintf(out, n, "%sZ", base); return; }
  char f[16];
  snprintf(f, sizeof f, "%09lu", frac);
  int l = 9;
  while (l > 0 && f[l - 1] == '0') l--;
  f[l] = 0;
  snprintf(out, n, "%s.%sZ", base, f);
}

static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static uint32_t get32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static int buf_add(struct buf *b, const void *d, size_t n) {
  if (b->len + n > b->cap) {
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < b->len + n) nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np) return -1;
    b->p = np; b->cap = nc;
  }
  memcpy(b->p + b->len, d, n);
  b->len += n;
  return 0;
}
static void buf_consume(struct buf *b, size_t n) {
  if (n >= b->len) { b->len = 0; return; }
  memmove(b->p, b->p + n, b->len - n);
  b->len -= n;
}
static void buf_free(struct buf *b) { free(b->p); b->p = NULL; b->len = b->cap = 0; }

static void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* ---------- clients ---------- */

static void client_drop(int i) {
  close(clients[i].fd);
  buf_free(&clients[i].in);
  buf_free(&clients[i].out);
  clients[i] = clients[nclients - 1];
  memset(&clients[nclients - 1], 0, sizeof clients[0]);
  nclients--;
}

/* Try to write pending output now; returns -1 if the client must be dropped. */
static int client_flush(struct client *c) {
  while (c->out.len) {
    ssize_t w = write(c->fd, c->out.p, c->out.len);
    if (w > 0) { buf_consume(&c->out, (size_t)w); continue; }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return -1;
  }
  return 0;
}

static void client_send(struct client *c, int type, int flags, const void *a, size_t alen, const void *b, size_t blen) {
  if (c->closing) return;
  unsigned char h[8] = {(unsigned char)type, (unsigned char)flags, 0, 0};
  put32(h + 4, (uint32_t)(alen + blen));
  if (c->out.len + 8 + alen + blen > CLIENT_OUT_CAP) { c->closing = 1; return; }
  if (c->out.len == 0) {
    /* fast path: write straight away */
    struct iovec iov[3] = {{h, 8}, {(void *)a, alen}, {(void *)b, blen}};
    ssize_t w = writev(c->fd, iov, 3);
    size_t total = 8 + alen + blen;
    if (w < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { c->closing = 1; return; }
      w = 0;
    }
    if ((size_t)w == total) return;
    /* buffer the rest */
    size_t off = (size_t)w;
    if (off < 8) { buf_add(&c->out, h + off, 8 - off); off = 0; } else off -= 8;
    if (off < alen) { buf_add(&c->out, (const char *)a + off, alen - off); off = 0; } else off -= alen;
    if (blen > off) buf_add(&c->out, (const char *)b + off, blen - off);
    return;
  }
  buf_add(&c->out, h, 8);
  if (alen) buf_add(&c->out, a, alen);
  if (blen) buf_add(&c->out, b, blen);
}

static void broadcast(int type, int flags, const void *a, size_t alen, const void *b, size_t blen) {
  for (int i = 0; i < nclients; i++) client_send(&clients[i], type, flags, a, alen, b, blen);
}

static const char *state_name(void) {
  switch (st) {
  case ST_CREATED: return "created";
  case ST_STARTING: return "starting";
  case ST_RUNNING: return "running";
  default: return "exited";
  }
}

static void send_hello(struct client *c) {
  char j[256];
  int n = snprintf(j, sizeof j, "{\"shimPid\":%d,\"state\":\"%s\",\"pid\":%d,\"startedAt\":\"%s\"}",
                   (int)getpid(), state_name(), (int)init_pid, started_at);
  client_send(c, F_HELLO, 0, j, (size_t)n, NULL, 0);
}

/* ---------- log ---------- */

/* LOG, LOG.1 … LOG.(files-1): shift them up, start an empty LOG */
static void rotate_log(void) {
  char a[4300], b[4300];
  if (o_log_files <= 1) { if (ftruncate(logfd, 0) == 0) log_size = 0; return; }
  snprintf(a, sizeof a, "%s.%d", o_log, o_log_files - 1);
  unlink(a);
  for (int i = o_log_files - 2; i >= 1; i--) {
    snprintf(a, sizeof a, "%s.%d", o_log, i);
    snprintf(b, sizeof b, "%s.%d", o_log, i + 1);
    rename(a, b);
  }
  snprintf(b, sizeof b, "%s.1", o_log);
  rename(o_log, b);
  int fd = open(o_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd >= 0) { close(logfd); logfd = fd; log_size = 0; }
}

static void emit_record(int stream, int partial, const char *d, size_t n) {
  uint64_t t = now_ns();
  unsigned char h[16], tr[4];
  h[0] = 0xB7; h[1] = (unsigned char)stream; h[2] = partial ? 1 : 0; h[3] = 0;
  put32(h + 4, (uint32_t)n);
  put64(h + 8, t);
  put32(tr, (uint32_t)n);
  if (logfd >= 0 && o_log_max > 0 && log_size > 0 && log_size + 20 + (long long)n > o_log_max) rotate_log();
  if (logfd >= 0) {
    struct iovec iov[3] = {{h, 16}, {(void *)d, n}, {tr, 4}};
    ssize_t w;
    do { w = writev(logfd, iov, 3); } while (w < 0 && errno == EINTR);
    if (w == (ssize_t)(20 + n)) {
      log_size += w;
      if (dropped_records) {
        char m[256];
        int l = snprintf(m, sizeof m, "container %s: log writes resumed, %llu records were dropped", o_id,
                         (unsigned long long)dropped_records);
        broadcast(F_LOG_ERROR, 0, m, (size_t)l, NULL, 0);
        dropped_records = 0;
      }
    } else {
      int err = w < 0 ? errno : ENOSPC; /* a short write: the disk filled up */
      /* Disk full (or another write error): the record is dropped, as dockerd's json-file logger
         drops a message it cannot write, and the container goes on. A short write is cut off again
         so the file never holds a torn record (O_APPEND: the offset is the file's end). */
      if (w > 0) {
        off_t end = lseek(logfd, 0, SEEK_CUR);
        if (end >= w && ftruncate(logfd, end - w) != 0) log_size += w;
      }
      if (dropped_records++ == 0) {
        /* as dockerd logs "Failed to log msg …": once per spell of failures, to the daemon's log */
        char m[4600], why[128];
        snprintf(why, sizeof why, "%s", strerror(err));
        if (why[0] >= 'A' && why[0] <= 'Z') why[0] = (char)(why[0] - 'A' + 'a'); /* Go's words: "no space left on device" */
        int l = snprintf(m, sizeof m, "container %s: failed to log msg for logger json-file: write %s: %s; records are dropped until it can write",
                         o_id, o_log, why);
        if (l > (int)sizeof m - 1) l = (int)sizeof m - 1;
        broadcast(F_LOG_ERROR, 0, m, (size_t)l, NULL, 0);
      }
    }
  }
  unsigned char ts[8];
  put64(ts, t);
  broadcast(stream == 1 ? F_STDOUT : F_STDERR, partial ? 1 : 0, ts, 8, d, n);
}

/* Split a chunk into records at newlines; max 16 KiB each; a tail without '\n' is partial. */
static void emit_chunk(int stream, const char *d, size_t n) {
  while (n) {
    size_t lim = n < MAX_RECORD ? n : MAX_RECORD;
    const char *nl = memchr(d, '\n', lim);
    if (nl) {
      size_t l = (size_t)(nl - d) + 1;
      emit_record(stream, 0, d, l);
      d += l; n -= l;
    } else {
      emit_record(stream, 1, d, lim);
      d += lim; n -= lim;
    }
  }
}

/* read once from a container pipe; returns 0 at EOF/error (fd closed), 1 otherwise */
static int pump(int *fdp, int stream) {
  static char b[READ_CHUNK];
  ssize_t r = read(*fdp, b, sizeof b);
  if (r > 0) { emit_chunk(stream, b, (size_t)r); return 1; }
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return 1;
  close(*fdp);
  *fdp = -1;
  return 0;
}

/* ---------- helpers ---------- */

static void die_sync(const char *fmt, ...) {
  char m[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(m, sizeof m - 1, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if (n > (int)sizeof m - 2) n = (int)sizeof m - 2;
  for (int i = 0; i < n; i++) if (m[i] == '\n') m[i] = ' ';
  char line[1100];
  int l = snprintf(line, sizeof line, "error %.*s\n", n, m);
  if (write(1, line, (size_t)l) < 0) {}
  if (mounted && o_target) umount2(o_target, MNT_DETACH);
  if (o_sock) unlink(o_sock);
  drop_exit_reservation();
  _exit(1);
}

/* run "<runtime> [--root R] delete --force <id>", waiting for it (SIGCHLD is blocked) */
static void runtime_delete(void) {
  if (o_exec_process) return; /* an exec's process ends; the container stays */
  pid_t p = fork();
  if (p == 0) {
    sigset_t s; sigemptyset(&s); sigprocmask(SIG_SETMASK, &s, NULL);
    int dn = open("/dev/null", O_RDWR);
    if (dn >= 0) { dup2(dn, 0); dup2(dn, 1); dup2(dn, 2); }
    if (o_root) execl(o_runtime, o_runtime, "--root", o_root, "delete", "--force", o_id, (char *)NULL);
    else execl(o_runtime, o_runtime, "delete", "--force", o_id, (char *)NULL);
    _exit(127);
  }
  if (p < 0) return;
  int status;
  for (;;) {
    pid_t r = waitpid(-1, &status, 0);
    if (r == p) break;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break; /* other children (stray container processes) are simply reaped */
  }
}

static int read_oom(void) {
  if (!o_cgroup) return 0;
  char path[4096], b[4096];
  const char *files[2][2] = {{"/sys/fs/cgroup/memory", "memory.oom_control"}, {"/sys/fs/cgroup", "memory.events"}};
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s%s/%s", files[i][0], o_cgroup, files[i][1]);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, b, sizeof b - 1);
    close(fd);
    if (n <= 0) continue;
    b[n] = 0;
    char *p = strstr(b, "oom_kill ");
    if (p && atol(p + 9) > 0) return 1;
    return 0;
  }
  return 0;
}

/*
 * The exit file's space is taken when the shim starts (EXIT_RESERVE bytes written to <exit>.tmp),
 * so that recording the exit only overwrites blocks it already owns and then shrinks the file: a
 * disk that filled up while the container ran still gets its exit status.
 */
#define EXIT_RESERVE 512

static void reserve_exit_file(void) {
  char tmp[4200], pad[EXIT_RESERVE];
  exit_tmp_path(tmp, sizeof tmp);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  memset(pad, ' ', sizeof pad);
  /* no fsync: written blocks are the file's (tmpfs pages, ext4's delayed-allocation reservation) */
  if (write(fd, pad, sizeof pad) != (ssize_t)sizeof pad) { close(fd); unlink(tmp); return; }
  exit_tmp_fd = fd;
}

static void write_exit_file(int code, int oom) {
  char tmp[4200], j[256];
  exit_tmp_path(tmp, sizeof tmp);
  int n = snprintf(j, sizeof j, "{\"exitCode\":%d,\"finishedAt\":\"%s\",\"oomKilled\":%s}", code, finished_at,
                   oom ? "true" : "false");
  int fd = exit_tmp_fd;
  exit_tmp_fd = -1;
  if (fd < 0) fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  /* A failed write (e.g. disk full) must never be renamed into place: the daemon would read a
     truncated record. Without the file it records a fallback exit status instead. */
  int ok = pwrite(fd, j, (size_t)n, 0) == n && ftruncate(fd, n) == 0;
  if (fsync(fd) != 0) ok = 0;
  if (close(fd) != 0) ok = 0;
  if (!ok) { unlink(tmp); return; }
  if (rename(tmp, o_exit) == 0) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", o_exit);
    char *sl = strrchr(dir, '/');
    if (sl) { if (sl == dir) sl[1] = 0; else *sl = 0; } else strcpy(dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { fsync(dfd); close(dfd); }
  }
}

/* give clients up to `ms` to take their pending output */
static void flush_clients(int ms) {
  uint64_t deadline = mono_ms() + (uint64_t)ms;
  for (;;) {
    struct pollfd p[MAX_CLIENTS];
    int np = 0;
    for (int i = 0; i < nclients;) {
      if (clients[i].closing || client_flush(&clients[i]) < 0) { client_drop(i); continue; }
      i++;
    }
    for (int i = 0; i < nclients; i++) if (clients[i].out.len) { p[np].fd = clients[i].fd; p[np].events = POLLOUT; p[np].revents = 0; np++; }
    if (!np) return;
    uint64_t now = mono_ms();
    if (now >= deadline) return;
    poll(p, (nfds_t)np, (int)(deadline - now));
  }
}

static void finish(int exit_code_of_shim) {
  if (mounted && o_target) { umount2(o_target, MNT_DETACH); mounted = 0; }
  if (o_sock) unlink(o_sock);
  drop_exit_reservation();
  for (int i = 0; i < nclients; i++) shutdown(clients[i].fd, SHUT_RDWR);
  _exit(exit_code_of_shim);
}

/* ---------- container start / exit ---------- */

static void start_container(void) {
  int out[2], err[2], in[2] = {-1, -1};
  if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) goto fail;
  if (o_stdin && pipe2(in, O_CLOEXEC) < 0) goto fail;
  char pidfile[4200];
  snprintf(pidfile, sizeof pidfile, "%s/container.pid", o_bundle);
  unlink(pidfile);
  if (o_tty) {
    struct sockaddr_un ca = {.sun_family = AF_UNIX};
    char full[4200], shortp[128];
    snprintf(full, sizeof full, "%s/console.sock", o_bundle);
    snprintf(console_path, sizeof console_path, "%s", sock_path(full, shortp, sizeof shortp, 1));
    if (strlen(console_path) >= sizeof ca.sun_path) { errno = ENAMETOOLONG; goto fail; }
    strcpy(ca.sun_path, console_path);
    unlink(full);
    console_lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (console_lfd < 0 || bind(console_lfd, (struct sockaddr *)&ca, sizeof ca) < 0 || listen(console_lfd, 1) < 0) goto fail;
  }
  st = ST_STARTING;
  runtime_pid = fork();
  if (runtime_pid < 0) goto fail;
  if (runtime_pid == 0) {
    sigset_t s; sigemptyset(&s); sigprocmask(SIG_SETMASK, &s, NULL);
    signal(SIGPIPE, SIG_DFL);
    int i0 = o_stdin ? in[0] : open("/dev/null", O_RDONLY);
    dup2(i0, 0); dup2(out[1], 1); dup2(err[1], 2);
    const char *argv[16];
    int a = 0;
    argv[a++] = o_runtime;
    if (o_root) { argv[a++] = "--root"; argv[a++] = o_root; }
    if (o_exec_process) { argv[a++] = "exec"; argv[a++] = "--detach"; }
    else { argv[a++] = "run"; argv[a++] = "--detach"; }
    if (o_tty) { argv[a++] = "--console-socket"; argv[a++] = console_path; }
    argv[a++] = "--pid-file"; argv[a++] = pidfile;
    if (o_exec_process) { argv[a++] = "--process"; argv[a++] = o_exec_process; }
    else { argv[a++] = "--bundle"; argv[a++] = o_bundle; }
    argv[a++] = o_id;
    argv[a] = NULL;
    execv(o_runtime, (char *const *)argv);
    dprintf(2, "exec %s: %s", o_runtime, strerror(errno));
    _exit(127);
  }
  close(out[1]); close(err[1]);
  if (o_stdin) { close(in[0]); in_wr = in[1]; set_nonblock(in_wr); }
  out_rd = out[0]; err_rd = err[0];
  set_nonblock(out_rd); set_nonblock(err_rd);
  return;
fail:;
  char m[256];
  int n = snprintf(m, sizeof m, "berth-shim: cannot start runtime: %s", strerror(errno));
  broadcast(F_START_ERROR, 0, m, (size_t)n, NULL, 0);
  flush_clients(1000);
  finish(1);
}

static void container_exited(int status);

/* the pty master crun sends over the console socket (SCM_RIGHTS); waits at most 2 s */
static int recv_console_fd(void) {
  struct pollfd p = {.fd = console_lfd, .events = POLLIN};
  if (poll(&p, 1, 2000) <= 0) return -1;
  int c = accept4(console_lfd, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) return -1;
  p.fd = c;
  if (poll(&p, 1, 2000) <= 0) { close(c); return -1; }
  char data[256];
  struct iovec iov = {data, sizeof data};
  union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } u;
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_iov = &iov; m.msg_iovlen = 1; m.msg_control = u.b; m.msg_controllen = sizeof u.b;
  int fd = -1;
  if (recvmsg(c, &m, MSG_CMSG_CLOEXEC) >= 0) {
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
      if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) memcpy(&fd, CMSG_DATA(h), sizeof fd);
  }
  close(c);
  return fd;
}

static int pty_master = -1;
static unsigned short o_console_rows, o_console_cols;

/*
 * Take the terminal from the console socket and give it the client's size at once. Called as soon
 * as the runtime connects (crun is still running then): crun applies process.consoleSize itself
 * only after the process may have started, so without this a quick `stty size` could see 0x0.
 */
static void take_console(void) {
  if (pty_master >= 0 || console_lfd < 0) return;
  pty_master = recv_console_fd();
  close(console_lfd); console_lfd = -1; unlink(console_path);
  if (pty_master >= 0 && o_console_rows && o_console_cols) {
    struct winsize ws = {.ws_row = o_console_rows, .ws_col = o_console_cols};
    ioctl(pty_master, TIOCSWINSZ, &ws);
  }
}

static void runtime_done(int status) {
  runtime_pid = -1;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    char pidfile[4200], b[64];
    snprintf(pidfile, sizeof pidfile, "%s/container.pid", o_bundle);
    int fd = open(pidfile, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, b, sizeof b - 1) : -1;
    if (fd >= 0) close(fd);
    if (n > 0) { b[n] = 0; init_pid = (pid_t)atoi(b); }
    if (init_pid > 0 && o_tty) {
      take_console();
      if (pty_master < 0) {
        kill(init_pid, SIGKILL);
        const char *m = "berth-shim: did not receive the container's terminal from the runtime";
        runtime_delete();
        if (mounted && o_target) { umount2(o_target, MNT_DETACH); mounted = 0; }
        st = ST_EXITED;
        broadcast(F_START_ERROR, 0, m, strlen(m), NULL, 0);
        flush_clients(2000);
        finish(1);
      }
      set_nonblock(pty_master);
      /* the terminal is the container's stdio: its output is one stream (stdout), stdin goes to it */
      if (out_rd >= 0) close(out_rd);
      out_rd = pty_master;
      if (in_wr >= 0) close(in_wr);
      in_wr = dup(pty_master);
      if (in_wr >= 0) { fcntl(in_wr, F_SETFD, FD_CLOEXEC); set_nonblock(in_wr); }
    }
    if (init_pid > 0) {
      rfc3339nano(now_ns(), started_at, sizeof started_at);
      st = ST_RUNNING;
      char j[160];
      int l = snprintf(j, sizeof j, "{\"pid\":%d,\"startedAt\":\"%s\"}", (int)init_pid, started_at);
      broadcast(F_STARTED, 0, j, (size_t)l, NULL, 0);
      for (int i = 0; i < nearly; i++)
        if (early[i].pid == init_pid) { container_exited(early[i].status); return; }
      return;
    }
  }
  /* failure: the runtime's stderr (not yet read by us) carries its message */
  char msg[8192];
  size_t ml = 0;
  for (;;) {
    ssize_t r = read(err_rd, msg + ml, sizeof msg - 1 - ml);
    if (r <= 0) break;
    ml += (size_t)r;
    if (ml >= sizeof msg - 1) break;
  }
  if (console_lfd >= 0) { close(console_lfd); console_lfd = -1; unlink(console_path); }
  while (ml && (msg[ml - 1] == '\n' || msg[ml - 1] == ' ')) ml--;
  if (!ml) {
    ml = (size_t)snprintf(msg, sizeof msg, "%s %s failed (%s %d)", o_runtime, o_exec_process ? "exec" : "run",
                          WIFEXITED(status) ? "exit status" : "signal",
                          WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  }
  runtime_delete();
  if (mounted && o_target) { umount2(o_target, MNT_DETACH); mounted = 0; }
  st = ST_EXITED;
  broadcast(F_START_ERROR, 0, msg, ml, NULL, 0);
  flush_clients(2000);
  finish(1);
}

static void container_exited(int status) {
  init_status = status;
  rfc3339nano(now_ns(), finished_at, sizeof finished_at);
  st = ST_EXITED;
  if (in_wr >= 0) { close(in_wr); in_wr = -1; }
  stdin_buf.len = 0;
  /* drain, bounded: grandchildren may hold the pipes open */
  uint64_t deadline = mono_ms() + 2000;
  while (out_rd >= 0 || err_rd >= 0) {
    struct pollfd p[2];
    int np = 0;
    if (out_rd >= 0) { p[np].fd = out_rd; p[np].events = POLLIN; np++; }
    if (err_rd >= 0) { p[np].fd = err_rd; p[np].events = POLLIN; np++; }
    uint64_t now = mono_ms();
    if (now >= deadline) break;
    int r = poll(p, (nfds_t)np, (int)(deadline - now));
    if (r <= 0) { if (r < 0 && errno == EINTR) continue; break; }
    for (int i = 0; i < np; i++) {
      if (!p[i].revents) continue;
      if (p[i].fd == out_rd) pump(&out_rd, 1); else pump(&err_rd, 2);
    }
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
  int oom = read_oom();
  runtime_delete();
  if (mounted && o_target) { umount2(o_target, MNT_DETACH); mounted = 0; }
  write_exit_file(code, oom);
  char j[256];
  int n = snprintf(j, sizeof j, "{\"exitCode\":%d,\"finishedAt\":\"%s\",\"oomKilled\":%s}", code, finished_at,
                   oom ? "true" : "false");
  broadcast(F_EXIT, 0, j, (size_t)n, NULL, 0);
  flush_clients(2000);
  finish(0);
}

static void reap(void) {
  for (;;) {
    int status;
    pid_t p = waitpid(-1, &status, WNOHANG);
    if (p <= 0) return;
    if (p == runtime_pid) runtime_done(status);
    else if (init_pid > 0 && p == init_pid) container_exited(status);
    else if (init_pid <= 0 && nearly < 64) { early[nearly].pid = p; early[nearly].status = status; nearly++; }
  }
}

/* ---------- client input ---------- */

static void flush_stdin(void) {
  while (in_wr >= 0 && stdin_buf.len) {
    ssize_t w = write(in_wr, stdin_buf.p, stdin_buf.len);
    if (w > 0) { buf_consume(&stdin_buf, (size_t)w); continue; }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return;
    /* EPIPE: the container closed its stdin */
    close(in_wr); in_wr = -1; stdin_buf.len = 0;
    return;
  }
  if (in_wr >= 0 && stdin_close_pending && !stdin_buf.len) { close(in_wr); in_wr = -1; stdin_close_pending = 0; }
}

static void handle_frame(struct client *c, int type, const unsigned char *p, uint32_t len) {
  (void)c;
  switch (type) {
  case F_GO:
    if (st == ST_CREATED) start_container();
    break;
  case F_STDIN:
    if (in_wr >= 0 && !stdin_close_pending) { buf_add(&stdin_buf, p, len); flush_stdin(); }
    break;
  case F_STDIN_CLOSE:
    /* with a terminal, stdin is the pty itself: closing it would close the container's output */
    if (in_wr >= 0 && !o_tty) { stdin_close_pending = 1; flush_stdin(); }
    break;
  case F_RESIZE:
    if (pty_master >= 0 && len >= 4) {
      struct winsize ws = {.ws_row = (unsigned short)(p[0] | p[1] << 8), .ws_col = (unsigned short)(p[2] | p[3] << 8)};
      ioctl(pty_master, TIOCSWINSZ, &ws);
    }
    break;
  default: break; /* unknown frames: ignored */
  }
}

/* returns -1 to drop the client */
static int client_read(struct client *c) {
  char b[READ_CHUNK];
  ssize_t r = read(c->fd, b, sizeof b);
  if (r == 0) return -1;
  if (r < 0) return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
  if (buf_add(&c->in, b, (size_t)r) < 0) return -1;
  size_t off = 0;
  while (c->in.len - off >= 8) {
    const unsigned char *h = (const unsigned char *)c->in.p + off;
    uint32_t len = get32(h + 4);
    if (len > CLIENT_IN_MAX) return -1;
    if (c->in.len - off < 8 + (size_t)len) break;
    handle_frame(c, h[0], h + 8, len);
    off += 8 + len;
  }
  buf_consume(&c->in, off);
  return 0;
}

/* ---------- main ---------- */

static void usage(void) { die_sync("usage: berth-shim --id ID --bundle DIR --runtime BIN --log F --socket S --exit F ..."); }

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"id", 1, 0, 'i'}, {"bundle", 1, 0, 'b'}, {"runtime", 1, 0, 'r'}, {"log", 1, 0, 'l'},
      {"socket", 1, 0, 's'}, {"exit", 1, 0, 'e'}, {"stdin", 0, 0, 'I'}, {"lower", 1, 0, 'L'},
      {"upper", 1, 0, 'U'}, {"work", 1, 0, 'W'}, {"target", 1, 0, 'T'}, {"mount-cwd", 1, 0, 'C'},
      {"cgroup", 1, 0, 'g'}, {"log-max-size", 1, 0, 'M'}, {"log-max-files", 1, 0, 'F'}, {"runtime-root", 1, 0, 'R'}, {"tty", 0, 0, 't'},
      {"exec-process", 1, 0, 'X'}, {"console-size", 1, 0, 'Z'}, {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 'i': o_id = optarg; break;
    case 'b': o_bundle = optarg; break;
    case 'r': o_runtime = optarg; break;
    case 'l': o_log = optarg; break;
    case 's': o_sock = optarg; break;
    case 'e': o_exit = optarg; break;
    case 'I': o_stdin = 1; break;
    case 'L': o_lower = optarg; break;
    case 'U': o_upper = optarg; break;
    case 'W': o_work = optarg; break;
    case 'T': o_target = optarg; break;
    case 'C': o_mount_cwd = optarg; break;
    case 'g': o_cgroup = optarg; break;
    case 'M': o_log_max = atoll(optarg); break;
    case 'F': o_log_files = atoi(optarg); if (o_log_files < 1) o_log_files = 1; break;
    case 'R': o_root = optarg; break;
    case 't': o_tty = 1; break;
    case 'X': o_exec_process = optarg; break;
    case 'Z': {
      unsigned r = 0, c = 0;
      if (sscanf(optarg, "%u,%u", &r, &c) == 2 && r <= 65535 && c <= 65535) { o_console_rows = (unsigned short)r; o_console_cols = (unsigned short)c; }
      break;
    }
    default: usage();
    }
  }
  if (!o_id || !o_bundle || !o_runtime || !o_log || !o_sock || !o_exit) usage();

  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);

  pid_t p = fork();
  if (p < 0) die_sync("fork: %s", strerror(errno));
  if (p > 0) _exit(0); /* the daemon's child ends here; the shim lives on, reparented */
  setsid();
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  if (chdir("/") < 0) {}
  int dn = open("/dev/null", O_RDWR);
  if (dn >= 0) { dup2(dn, 0); dup2(dn, 2); if (dn > 2) close(dn); }

  /* rootfs (never in exec mode: the container's is already mounted) */
  if (o_target && o_lower && !o_exec_process) {
    if (!o_upper || !*o_upper) die_sync("--upper is required with --lower");
    if (o_mount_cwd && chdir(o_mount_cwd) < 0) die_sync("chdir %s: %s", o_mount_cwd, strerror(errno));
    if (!*o_lower) {
      if (mount(o_upper, o_target, NULL, MS_BIND, NULL) < 0) die_sync("bind mount rootfs: %s", strerror(errno));
    } else {
      if (!o_work) die_sync("--work is required with --lower");
      size_t dl = strlen(o_lower) + strlen(o_upper) + strlen(o_work) + 64;
      char *data = malloc(dl);
      if (!data) die_sync("out of memory");
      snprintf(data, dl, "lowerdir=%s,upperdir=%s,workdir=%s", o_lower, o_upper, o_work);
      if (strlen(data) >= 4096) die_sync("overlay mount options too long (%zu bytes); use --mount-cwd with relative paths", strlen(data));
      if (mount("overlay", o_target, "overlay", 0, data) < 0) die_sync("mount overlay on %s: %s", o_target, strerror(errno));
      free(data);
    }
    mounted = 1;
    if (o_mount_cwd && chdir("/") < 0) {}
  }

  if (*o_log) { /* --log "": no log (exec) */
    logfd = open(o_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (logfd < 0) die_sync("open log %s: %s", o_log, strerror(errno));
    struct stat lst;
    if (fstat(logfd, &lst) == 0) log_size = lst.st_size;
  }

  reserve_exit_file();

  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  char sock_short[128];
  const char *bind_path = sock_path(o_sock, sock_short, sizeof sock_short, 0);
  if (strlen(bind_path) >= sizeof sa.sun_path) die_sync("socket path too long: %s", o_sock);
  strcpy(sa.sun_path, bind_path);
  unlink(o_sock);
  lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (lfd < 0) die_sync("socket: %s", strerror(errno));
  if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0) die_sync("bind %s: %s", o_sock, strerror(errno));
  chmod(o_sock, 0600);
  if (listen(lfd, 16) < 0) die_sync("listen: %s", strerror(errno));

  sigset_t ss;
  sigemptyset(&ss);
  sigaddset(&ss, SIGCHLD); sigaddset(&ss, SIGTERM); sigaddset(&ss, SIGINT);
  sigprocmask(SIG_BLOCK, &ss, NULL);
  sigfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd < 0) die_sync("signalfd: %s", strerror(errno));

  char ready[64];
  int rl = snprintf(ready, sizeof ready, "ready %d\n", (int)getpid());
  if (write(1, ready, (size_t)rl) < 0) {}
  if (dn >= 0) dup2(0, 1); /* close the sync pipe: fd 1 -> /dev/null */

  uint64_t go_deadline = mono_ms() + 60000;
  for (;;) {
    struct pollfd pf[MAX_CLIENTS + 6];
    int np = 0, i_sig, i_lis, i_out = -1, i_err = -1, i_in = -1, i_cl;
    pf[np].fd = sigfd; pf[np].events = POLLIN; i_sig = np++;
    pf[np].fd = lfd; pf[np].events = POLLIN; i_lis = np++;
    if (st == ST_RUNNING && out_rd >= 0) { pf[np].fd = out_rd; pf[np].events = POLLIN; i_out = np++; }
    if (st == ST_RUNNING && err_rd >= 0) { pf[np].fd = err_rd; pf[np].events = POLLIN; i_err = np++; }
    if (in_wr >= 0 && stdin_buf.len) { pf[np].fd = in_wr; pf[np].events = POLLOUT; i_in = np++; }
    int i_con = -1;
    if (st == ST_STARTING && o_tty && console_lfd >= 0 && pty_master < 0) { pf[np].fd = console_lfd; pf[np].events = POLLIN; i_con = np++; }
    i_cl = np;
    int want_in = stdin_buf.len < STDIN_CAP;
    for (int i = 0; i < nclients; i++) {
      pf[np].fd = clients[i].fd;
      pf[np].events = (short)((want_in ? POLLIN : 0) | (clients[i].out.len ? POLLOUT : 0));
      np++;
    }
    int timeout = -1;
    if (st == ST_CREATED) {
      uint64_t now = mono_ms();
      if (now >= go_deadline) finish(2);
      timeout = (int)(go_deadline - now);
    }
    for (int i = 0; i < np; i++) pf[i].revents = 0;
    int r = poll(pf, (nfds_t)np, timeout);
    if (r < 0) { if (errno == EINTR) continue; finish(3); }
    if (r == 0) continue;

    /* clients first (they may be dropped below; indices are snapshotted) */
    int ncl = nclients;
    for (int k = ncl - 1; k >= 0; k--) {
      short re = pf[i_cl + k].revents;
      if (!re) continue;
      struct client *cl = &clients[k];
      int drop = 0;
      if (re & POLLOUT) drop = client_flush(cl) < 0;
      if (!drop && (re & (POLLIN | POLLHUP | POLLERR))) drop = client_read(cl) < 0;
      if (drop) client_drop(k);
    }
    if (pf[i_lis].revents & POLLIN) {
      for (;;) {
        int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0) break;
        if (nclients >= MAX_CLIENTS) { close(cfd); continue; }
        memset(&clients[nclients], 0, sizeof clients[0]);
        clients[nclients].fd = cfd;
        send_hello(&clients[nclients]);
        nclients++;
      }
    }
    if (i_con >= 0 && (pf[i_con].revents & POLLIN)) take_console();
    if (i_in >= 0 && pf[i_in].revents) flush_stdin();
    if (i_out >= 0 && pf[i_out].revents && out_rd >= 0) pump(&out_rd, 1);
    if (i_err >= 0 && pf[i_err].revents && err_rd >= 0) pump(&err_rd, 2);
    if (pf[i_sig].revents & POLLIN) {
      struct signalfd_siginfo si;
      int chld = 0;
      while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD) chld = 1;
        else if (init_pid > 0 && st == ST_RUNNING) kill(init_pid, SIGKILL);
        else if (st == ST_CREATED) finish(1);
      }
      if (chld) reap();
    }
    for (int i = 0; i < nclients;) {
      if (clients[i].closing) { client_drop(i); continue; }
      i++;
    }
  }
}
