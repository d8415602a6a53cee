// SPDX-License-Identifier: GPL-2.0-only
#include "serial.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* 16550A registers (offsets from the base); PC16550D datasheet. */
#define UART_RBR_THR 0
#define UART_IER 1
#define UART_IIR_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_RDI 0x01  /* receive data available */
#define IER_THRI 0x02 /* transmitter holding register empty */
#define IER_RLSI 0x04
#define IER_MSI 0x08
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xC0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define MCR_OUT2 0x08
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_DCD 0x80

#define SERIAL_FIFO 256

enum serial_kind { SER_NONE, SER_STDIO, SER_FILE, SER_PTY, SER_UNIX };

struct serial {
	pthread_mutex_t lock;
	enum serial_kind kind;
	int out_fd;
	int in_fd;
	int listen_fd; /* unix */
	int client_fd; /* unix: the connected client, or -1 */
	char path[108]; /* unix: the socket path, removed on destroy */
	char desc[160];
	struct irq_line irq;
	struct evloop *loop;
	/* chip state */
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thr_int_pending; /* THRE interrupt armed (cleared by reading IIR or writing THR) */
	uint8_t fifo[SERIAL_FIFO];
	unsigned head, count;
	int irq_level;
	uint64_t first_byte_ns;
	uint64_t tx_bytes;
	uint64_t rx_dropped;
};

static void serial_update_irq(struct serial *s)
{
	int level = 0;

	if ((s->ier & IER_RDI) && s->count)
		level = 1;
	if ((s->ier & IER_THRI) && s->thr_int_pending)
		level = 1;
	/* On a PC, OUT2 gates the UART's interrupt onto the ISA line. */
	if (!(s->mcr & MCR_OUT2))
		level = 0;
	if (level != s->irq_level) {
		s->irq_level = level;
		irq_line_set(&s->irq, level);
	}
}

static void serial_emit(struct serial *s, uint8_t c)
{
	int fd = s->kind == SER_UNIX ? s->client_fd : s->out_fd;

	if (!s->first_byte_ns)
		s->first_byte_ns = clock_ns();
	s->tx_bytes++;
	if (fd < 0)
		return;
	/* Output must never block the vCPU for long: a full pty/socket drops bytes (counted). */
	if (write(fd, &c, 1) != 1 && (errno == EPIPE || errno == ECONNRESET) && s->kind == SER_UNIX) {
		close(s->client_fd);
		s->client_fd = -1;
	}
}

void serial_push_input(struct serial *s, const uint8_t *buf, unsigned len)
{
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < len; i++) {
		if (s->count == SERIAL_FIFO) {
			s->rx_dropped++;
			continue;
		}
		s->fifo[(s->head + s->count) % SERIAL_FIFO] = buf[i];
		s->count++;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static uint64_t serial_read(void *opaque, uint64_t off, unsigned size)
{
	struct serial *s = opaque;
	uint8_t v = 0xFF;

	(void)size;
	pthread_mutex_lock(&s->lock);
	switch (off) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB) {
			v = s->dll;
		} else if (s->count) {
			v = s->fifo[s->head];
			s->head = (s->head + 1) % SERIAL_FIFO;
			s->count--;
		} else {
			v = 0;
		}
		break;
	case UART_IER:
		v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
		break;
	case UART_IIR_FCR:
		if ((s->ier & IER_RDI) && s->count) {
			v = IIR_RDI;
		} else if ((s->ier & IER_THRI) && s->thr_int_pending) {
			v = IIR_THRI;
			s->thr_int_pending = false; /* reading IIR with THRI pending clears it */
		} else {
			v = IIR_NO_INT;
		}
		if (s->fcr & FCR_ENABLE)
			v |= IIR_FIFO;
		break;
	case UART_LCR:
		v = s->lcr;
		break;
	case UART_MCR:
		v = s->mcr;
		break;
	case UART_LSR:
		v = LSR_THRE | LSR_TEMT | (s->count ? LSR_DR : 0);
		break;
	case UART_MSR:
		if (s->mcr & MCR_LOOP)
			v = (uint8_t)((s->mcr & 0x0C) << 4 | (s->mcr & 0x03) << 4);
		else
			v = MSR_DCD | MSR_DSR | MSR_CTS;
		break;
	case UART_SCR:
		v = s->scr;
		break;
	default:
		break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return v;
}

static void serial_write(void *opaque, uint64_t off, unsigned size, uint64_t value)
{
	struct serial *s = opaque;
	uint8_t v = (uint8_t)value;

	(void)size;
	pthread_mutex_lock(&s->lock);
	switch (off) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
		} else if (s->mcr & MCR_LOOP) {
			if (s->count < SERIAL_FIFO) {
				s->fifo[(s->head + s->count) % SERIAL_FIFO] = v;
				s->count++;
			}
			s->thr_int_pending = true;
		} else {
			serial_emit(s, v);
			s->thr_int_pending = true; /* transmitter is immediately empty again */
		}
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
		} else {
			/* Enabling THRI while the THR is empty raises the interrupt at once (8250 behaviour
			 * Linux's driver probes for). */
			if (!(s->ier & IER_THRI) && (v & IER_THRI))
				s->thr_int_pending = true;
			s->ier = v & 0x0F;
		}
		break;
	case UART_IIR_FCR:
		s->fcr = v & 0xC9;
		if (v & FCR_CLEAR_RX)
			s->count = 0;
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1F;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default: /* LSR/MSR are read-only */
		break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

const struct bus_ops serial_bus_ops = {
	.read = serial_read,
	.write = serial_write,
};

static void serial_input_cb(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct serial *s = opaque;
	uint8_t buf[256];
	ssize_t n = read(fd, buf, sizeof(buf));

	(void)events;
	if (n > 0) {
		serial_push_input(s, buf, (unsigned)n);
		return;
	}
	if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		evloop_del(loop, fd);
		if (s->kind == SER_UNIX && fd == s->client_fd) {
			pthread_mutex_lock(&s->lock);
			close(s->client_fd);
			s->client_fd = -1;
			pthread_mutex_unlock(&s->lock);
		}
	}
}

static void serial_accept_cb(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct serial *s = opaque;
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	(void)events;
	if (c < 0)
		return;
	pthread_mutex_lock(&s->lock);
	if (s->client_fd >= 0) {
		/* One console client at a time, as a physical serial line. */
		pthread_mutex_unlock(&s->lock);
		static const char busy[] = "console busy\r\n";
		if (write(c, busy, sizeof(busy) - 1) < 0) {
		}
		close(c);
		return;
	}
	s->client_fd = c;
	pthread_mutex_unlock(&s->lock);
	if (evloop_add(loop, c, EPOLLIN, serial_input_cb, s) < 0)
		log_warn("serial: cannot watch console client");
}

int serial_attach_loop(struct serial *s, struct evloop *loop)
{
	s->loop = loop;
	if (s->kind == SER_UNIX)
		return evloop_add(loop, s->listen_fd, EPOLLIN, serial_accept_cb, s);
	if (s->in_fd >= 0 && evloop_add(loop, s->in_fd, EPOLLIN, serial_input_cb, s) < 0) {
		/* /dev/null and similar cannot be polled: the console simply has no input. */
		log_debug("serial: input fd %d cannot be watched; console is output-only", s->in_fd);
		s->in_fd = -1;
	}
	return 0;
}

static int serial_open_backend(struct serial *s, const char *spec)
{
	if (!strcmp(spec, "none")) {
		s->kind = SER_NONE;
		snprintf(s->desc, sizeof(s->desc), "none");
	} else if (!strcmp(spec, "stdio")) {
		struct stat st;

		s->kind = SER_STDIO;
		s->out_fd = STDOUT_FILENO;
		if (fstat(STDIN_FILENO, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) ||
						       S_ISSOCK(st.st_mode))) {
			s->in_fd = STDIN_FILENO;
			fcntl(s->in_fd, F_SETFL, fcntl(s->in_fd, F_GETFL) | O_NONBLOCK);
		}
		snprintf(s->desc, sizeof(s->desc), "stdio");
	} else if (!strncmp(spec, "file:", 5)) {
		s->kind = SER_FILE;
		s->out_fd = open(spec + 5, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (s->out_fd < 0) {
			int ret = -errno;

			log_err("--serial %s: %s", spec, strerror(errno));
			return ret;
		}
		snprintf(s->desc, sizeof(s->desc), "file:%s", spec + 5);
	} else if (!strcmp(spec, "pty")) {
		int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		struct termios t;

		if (fd < 0 || grantpt(fd) < 0 || unlockpt(fd) < 0) {
			int ret = -errno;

			log_err("--serial pty: %s", strerror(errno));
			if (fd >= 0)
				close(fd);
			return ret;
		}
		if (tcgetattr(fd, &t) == 0) {
			cfmakeraw(&t);
			tcsetattr(fd, TCSANOW, &t);
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		s->kind = SER_PTY;
		s->out_fd = s->in_fd = fd;
		snprintf(s->desc, sizeof(s->desc), "pty:%s", ptsname(fd));
	} else if (!strncmp(spec, "unix:", 5)) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd;

		if (strlen(spec + 5) >= sizeof(sa.sun_path)) {
			log_err("--serial %s: socket path too long", spec);
			return -ENAMETOOLONG;
		}
		strcpy(sa.sun_path, spec + 5);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		unlink(sa.sun_path);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
			int ret = -errno;

			log_err("--serial %s: %s", spec, strerror(errno));
			if (fd >= 0)
				close(fd);
			return ret;
		}
		chmod(sa.sun_path, 0600);
		snprintf(s->path, sizeof(s->path), "%s", sa.sun_path);
		s->kind = SER_UNIX;
		s->listen_fd = fd;
		snprintf(s->desc, sizeof(s->desc), "unix:%s", spec + 5);
	} else {
		log_err("--serial %s: expected stdio, file:PATH, pty, unix:PATH or none", spec);
		return -EINVAL;
	}
	return 0;
}

int serial_create(const char *spec, const struct irq_line *irq, struct serial **out)
{
	struct serial *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->out_fd = s->in_fd = s->listen_fd = s->client_fd = -1;
	if (irq)
		s->irq = *irq;
	ret = serial_open_backend(s, spec ? spec : "stdio");
	if (ret) {
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

void serial_destroy(struct serial *s)
{
	if (!s)
		return;
	if (s->kind == SER_UNIX) {
		/* The path was remembered at bind time: no syscall beyond unlink/close here, so this
		 * also runs under the seccomp allow-list. */
		if (s->path[0])
			unlink(s->path);
		close(s->listen_fd);
		if (s->client_fd >= 0)
			close(s->client_fd);
	} else if (s->kind == SER_FILE || s->kind == SER_PTY) {
		close(s->out_fd);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
}

const char *serial_describe(const struct serial *s)
{
	return s->desc;
}

uint64_t serial_first_byte_ns(const struct serial *s)
{
	return __atomic_load_n(&s->first_byte_ns, __ATOMIC_RELAXED);
}

uint64_t serial_tx_bytes(const struct serial *s)
{
	return __atomic_load_n(&s->tx_bytes, __ATOMIC_RELAXED);
}
