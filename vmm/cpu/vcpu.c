// SPDX-License-Identifier: GPL-2.0-only
#include "vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emulate.h"
#include "log.h"
#include "pgwalk.h"

#define VCPU_KICK_SIGNAL SIGUSR1

static void vcpu_kick_handler(int sig)
{
	(void)sig; /* only there to interrupt KVM_RUN */
}

void vcpu_init_signals(void)
{
	struct sigaction sa = { .sa_handler = vcpu_kick_handler };

	sigemptyset(&sa.sa_mask);
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
}

int vcpu_create(const struct vcpu_env *env, unsigned id, struct vcpu **out)
{
	struct vcpu *v = calloc(1, sizeof(*v));
	int ret;

	if (!v)
		return -ENOMEM;
	v->id = id;
	v->env = env;
	v->fd = ioctl(env->kvm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		ret = -errno;
		log_err("vCPU %u: KVM_CREATE_VCPU: %s", id, strerror(errno));
		free(v);
		return ret;
	}
	v->run = mmap(NULL, (size_t)env->kvm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		ret = -errno;
		log_err("vCPU %u: mmap of kvm_run: %s", id, strerror(errno));
		close(v->fd);
		free(v);
		return ret;
	}
	*out = v;
	return 0;
}

void vcpu_destroy(struct vcpu *v)
{
	if (!v)
		return;
	if (v->run && v->run != MAP_FAILED)
		munmap(v->run, (size_t)v->env->kvm->vcpu_mmap_size);
	if (v->fd >= 0)
		close(v->fd);
	free(v);
}

static void vcpu_count(struct vcpu *v, enum vcpu_exit_kind k)
{
	__atomic_add_fetch(&v->exits[k], 1, __ATOMIC_RELAXED);
}

static void vcpu_handle_io(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;
	unsigned size = r->io.size;

	/* String I/O (rep ins/outs) arrives as one exit with io.count repetitions. */
	for (uint32_t i = 0; i < r->io.count; i++, data += size) {
		uint64_t val = 0;

		if (r->io.direction == KVM_EXIT_IO_OUT) {
			memcpy(&val, data, size);
			bus_write(v->env->pio, r->io.port, size, val);
		} else {
			bus_read(v->env->pio, r->io.port, size, &val);
			memcpy(data, &val, size);
		}
	}
}

static void vcpu_handle_mmio(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	unsigned len = r->mmio.len;
	uint64_t val = 0;

	if (len != 1 && len != 2 && len != 4 && len != 8) {
		log_rl(LOGL_WARN, "vCPU %u: MMIO access of %u bytes at 0x%llx ignored", v->id, len,
		       (unsigned long long)r->mmio.phys_addr);
		if (!r->mmio.is_write)
			memset(r->mmio.data, 0xff, sizeof(r->mmio.data));
		return;
	}
	if (r->mmio.is_write) {
		memcpy(&val, r->mmio.data, len);
		bus_write(v->env->mmio, r->mmio.phys_addr, len, val);
	} else {
		bus_read(v->env->mmio, r->mmio.phys_addr, len, &val);
		memcpy(r->mmio.data, &val, len);
	}
}

static bool vcpu_stopping(const struct vcpu *v)
{
	return __atomic_load_n(v->env->stop, __ATOMIC_ACQUIRE) != 0;
}

/* Instruction fallback (emulate.h); true when the vCPU can resume. */
static bool vcpu_try_emulate(struct vcpu *v)
{
	enum emu_insn kind;

	if (emu_fallback(v, &kind) != 0)
		return false;
	__atomic_add_fetch(&v->emulated[kind], 1, __ATOMIC_RELAXED);
	log_rl(LOGL_DEBUG, "vCPU %u: emulated %s in user space", v->id, emu_insn_name(kind));
	return true;
}

/* One exit; returns false when this vCPU must stop. */
static bool vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *r = v->run;

	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_count(v, VX_IO);
		vcpu_handle_io(v);
		return true;
	case KVM_EXIT_MMIO:
		vcpu_count(v, VX_MMIO);
		vcpu_handle_mmio(v);
		return true;
	case KVM_EXIT_INTR:
		vcpu_count(v, VX_INTR);
		return true;
	case KVM_EXIT_HLT:
		vcpu_count(v, VX_HLT);
		v->env->event(v->env->opaque, v, VCPU_EV_HALT);
		return false;
	case KVM_EXIT_SHUTDOWN:
		vcpu_count(v, VX_SHUTDOWN);
		v->env->event(v->env->opaque, v, VCPU_EV_SHUTDOWN);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		vcpu_count(v, VX_INTERNAL);
		if (r->internal.suberror == KVM_INTERNAL_ERROR_EMULATION && vcpu_try_emulate(v))
			return true;
		v->env->event(v->env->opaque, v, VCPU_EV_INTERNAL_ERROR);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		vcpu_count(v, VX_OTHER);
		v->env->event(v->env->opaque, v, VCPU_EV_FAIL_ENTRY);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_count(v, VX_OTHER);
		if (r->system_event.type == KVM_SYSTEM_EVENT_RESET)
			v->env->event(v->env->opaque, v, VCPU_EV_SYSTEM_RESET);
		else
			v->env->event(v->env->opaque, v, VCPU_EV_SYSTEM_OFF);
		return false;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
	case KVM_EXIT_DEBUG:
		vcpu_count(v, VX_OTHER);
		return true;
	default:
		vcpu_count(v, VX_OTHER);
		log_rl(LOGL_WARN, "vCPU %u: unhandled exit reason %u, resuming", v->id, r->exit_reason);
		return true;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	char name[16];
	sigset_t set;

	v->tid = (pid_t)syscall(SYS_gettid);
	snprintf(name, sizeof(name), "vcpu%u", v->id);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	if (v->pinned && pthread_setaffinity_np(pthread_self(), sizeof(v->pin), &v->pin) != 0) {
		log_err("vCPU %u: cannot pin thread %d: %s", v->id, (int)v->tid, strerror(errno));
		v->start_error = -EINVAL;
	}
	if (!v->start_error && v->prepare)
		v->start_error = v->prepare(v, v->prepare_opaque);
	if (v->start_barrier)
		pthread_barrier_wait(v->start_barrier);
	if (v->start_error)
		return NULL;

	while (!vcpu_stopping(v)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->run->immediate_exit = 0;
				vcpu_count(v, VX_INTR);
				continue;
			}
			log_err("vCPU %u: KVM_RUN: %s", v->id, strerror(errno));
			v->env->event(v->env->opaque, v, VCPU_EV_RUN_ERROR);
			break;
		}
		if (!vcpu_handle_exit(v))
			break;
	}
	return NULL;
}

int vcpu_start(struct vcpu *v)
{
	int ret = pthread_create(&v->thread, NULL, vcpu_thread, v);

	if (ret)
		return -ret;
	v->thread_started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (!v || !v->thread_started)
		return;
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
	pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *v)
{
	if (v && v->thread_started) {
		pthread_join(v->thread, NULL);
		v->thread_started = false;
	}
}

int vcpu_set_affinity(struct vcpu *v, const cpu_set_t *set)
{
	int ret;

	if (CPU_COUNT(set) == 0)
		return -EINVAL;
	if (v->thread_started) {
		ret = pthread_setaffinity_np(v->thread, sizeof(*set), set);
		if (ret)
			return -ret;
	}
	v->pin = *set;
	v->pinned = true;
	return 0;
}

static void seg_dump(FILE *out, const char *n, const struct kvm_segment *s)
{
	fprintf(out, "  %-3s sel=%04x base=%016llx limit=%08x type=%x dpl=%u p=%u l=%u db=%u\n", n,
		s->selector, (unsigned long long)s->base, s->limit, s->type, s->dpl, s->present, s->l,
		s->db);
}

void vcpu_dump(struct vcpu *v, FILE *out)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	uint8_t insn[16];
	struct pgwalk_mode mode;
	uint64_t rip;
	int ret;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(out, "vCPU %u: cannot read registers: %s\n", v->id, strerror(errno));
		return;
	}
	fprintf(out, "vCPU %u registers:\n", v->id);
	fprintf(out, "  rip=%016llx rflags=%016llx\n", (unsigned long long)r.rip, (unsigned long long)r.rflags);
	fprintf(out, "  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n", (unsigned long long)r.rax,
		(unsigned long long)r.rbx, (unsigned long long)r.rcx, (unsigned long long)r.rdx);
	fprintf(out, "  rsi=%016llx rdi=%016llx rsp=%016llx rbp=%016llx\n", (unsigned long long)r.rsi,
		(unsigned long long)r.rdi, (unsigned long long)r.rsp, (unsigned long long)r.rbp);
	fprintf(out, "  r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n", (unsigned long long)r.r8,
		(unsigned long long)r.r9, (unsigned long long)r.r10, (unsigned long long)r.r11);
	fprintf(out, "  r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n", (unsigned long long)r.r12,
		(unsigned long long)r.r13, (unsigned long long)r.r14, (unsigned long long)r.r15);
	fprintf(out, "  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%016llx\n",
		(unsigned long long)s.cr0, (unsigned long long)s.cr2, (unsigned long long)s.cr3,
		(unsigned long long)s.cr4, (unsigned long long)s.efer);
	seg_dump(out, "cs", &s.cs);
	seg_dump(out, "ss", &s.ss);
	seg_dump(out, "ds", &s.ds);
	seg_dump(out, "tr", &s.tr);
	fprintf(out, "  gdt=%016llx/%x idt=%016llx/%x\n", (unsigned long long)s.gdt.base, s.gdt.limit,
		(unsigned long long)s.idt.base, s.idt.limit);

	mode = (struct pgwalk_mode){ .cr0 = s.cr0, .cr3 = s.cr3, .cr4 = s.cr4, .efer = s.efer };
	rip = s.cs.l ? r.rip : s.cs.base + (r.rip & 0xFFFFFFFF);
	ret = pgwalk_read(v->env->gm, &mode, rip, insn, sizeof(insn));
	if (ret) {
		fprintf(out, "  code at %016llx: unreadable (%s)\n", (unsigned long long)rip, strerror(-ret));
		return;
	}
	fprintf(out, "  code at %016llx:", (unsigned long long)rip);
	for (unsigned i = 0; i < sizeof(insn); i++)
		fprintf(out, " %02x", insn[i]);
	fprintf(out, "\n");
	if (v->run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
		fprintf(out, "  internal error suberror=%u", v->run->internal.suberror);
		for (uint32_t i = 0; i < v->run->internal.ndata && i < 16; i++)
			fprintf(out, " data[%u]=%llx", i, (unsigned long long)v->run->internal.data[i]);
		fprintf(out, "\n");
	}
	if (v->run->exit_reason == KVM_EXIT_FAIL_ENTRY)
		fprintf(out, "  hardware entry failure reason 0x%llx\n",
			(unsigned long long)v->run->fail_entry.hardware_entry_failure_reason);
}
