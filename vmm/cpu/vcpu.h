/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vCPU threads: one thread per vCPU, optionally pinned, running KVM_RUN and dispatching exits to the
 * PIO/MMIO buses. Everything that ends the guest is reported to the owner through vcpu_env.event();
 * the owner decides (stop all vCPUs, print state, choose the exit status). A vCPU never exits the
 * process.
 */
#ifndef NFV_CPU_VCPU_H
#define NFV_CPU_VCPU_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "bus.h"
#include "gmem.h"
#include "kvm.h"

enum vcpu_event {
	VCPU_EV_HALT,		/* HLT exit (no in-kernel irqchip) with interrupts off */
	VCPU_EV_SHUTDOWN,	/* triple fault */
	VCPU_EV_INTERNAL_ERROR, /* KVM could not emulate an instruction, or similar */
	VCPU_EV_FAIL_ENTRY,	/* hardware refused the state */
	VCPU_EV_SYSTEM_RESET,	/* guest asked for reset */
	VCPU_EV_SYSTEM_OFF,	/* guest asked for power-off */
	VCPU_EV_RUN_ERROR,	/* KVM_RUN itself failed */
};

/* Exit reasons we count (index into vcpu_stats.exits). */
enum vcpu_exit_kind {
	VX_IO,
	VX_MMIO,
	VX_HLT,
	VX_INTR,
	VX_SHUTDOWN,
	VX_INTERNAL,
	VX_OTHER,
	VX__MAX,
};

struct vcpu;

struct vcpu_env {
	struct kvm *kvm;
	struct bus *pio;
	struct bus *mmio;
	struct gmem *gm;
	void *opaque;
	/* Called on the vCPU's own thread; after it returns the vCPU stops running. */
	void (*event)(void *opaque, struct vcpu *v, enum vcpu_event ev);
	/* Set by the owner to stop every vCPU (read on every exit). */
	volatile int *stop;
};

struct vcpu {
	unsigned id;
	int fd;
	struct kvm_run *run;
	const struct vcpu_env *env;
	pthread_t thread;
	bool thread_started;
	volatile pid_t tid;
	bool pinned;
	cpu_set_t pin;		/* valid when pinned */
	uint64_t exits[VX__MAX]; /* atomic */
	uint64_t emulated[8];	 /* atomic: instructions the fallback emulated, by enum emu_insn */
	int (*prepare)(struct vcpu *v, void *opaque); /* initial register state, on the vCPU thread */
	void *prepare_opaque;
	pthread_barrier_t *start_barrier;
	int start_error;
};

/* Create vCPU @id (KVM_CREATE_VCPU + mmap of kvm_run). */
int vcpu_create(const struct vcpu_env *env, unsigned id, struct vcpu **out) __attribute__((warn_unused_result));
void vcpu_destroy(struct vcpu *v);

/* Start the thread: it pins itself, runs v->prepare, waits on v->start_barrier, then runs. */
int vcpu_start(struct vcpu *v) __attribute__((warn_unused_result));
/* Make KVM_RUN return now (immediate_exit + signal); safe from any thread. */
void vcpu_kick(struct vcpu *v);
void vcpu_join(struct vcpu *v);

/* Re-pin a running vCPU thread; -EINVAL when the set is empty or not allowed. */
int vcpu_set_affinity(struct vcpu *v, const cpu_set_t *set) __attribute__((warn_unused_result));

/* Print registers, segment state and the instruction bytes at RIP (via the page-table walker). */
void vcpu_dump(struct vcpu *v, FILE *out);

/* Call once per process before creating vCPUs (installs the kick signal handler). */
void vcpu_init_signals(void);

#endif
