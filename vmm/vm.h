/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One virtual machine: KVM VM, guest RAM, buses, devices, vCPU threads and the control event loop.
 * vm_create() does everything that can fail before the guest starts (including validating every
 * pin), so a bad configuration never half-starts a guest.
 */
#ifndef NFV_VMM_VM_H
#define NFV_VMM_VM_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include "backing.h"
#include "devices.h"

#define VM_MAX_VCPUS 16

/* Exit statuses of nfv-vmm (documented in README). */
enum vm_exit_status {
	VM_EXIT_OK = 0,		/* guest powered off / every vCPU reported done */
	VM_EXIT_GUEST_FAIL = 1, /* the guest reported a failure */
	VM_EXIT_CONFIG = 2,	/* configuration or host set-up error; the guest never ran */
	VM_EXIT_CRASH = 3,	/* triple fault */
	VM_EXIT_INTERNAL = 4,	/* KVM could not run the guest (emulation failure, entry failure) */
	VM_EXIT_RESET = 5,	/* the guest asked for a reset (restart is the manager's policy) */
	/* 128 + N: stopped by signal N */
};

enum vm_boot {
	VM_BOOT_ELF64, /* freestanding ELF, 64-bit entry with identity page tables */
	VM_BOOT_REAL,  /* flat binary at 0x7c00 in real mode */
	VM_BOOT_LINUX, /* Linux bzImage or vmlinux, 64-bit boot protocol (chosen automatically for bzImages) */
};

struct vm_cfg {
	const char *name;
	uint64_t ram_size;
	unsigned nr_vcpus;
	bool vcpu_pinned[VM_MAX_VCPUS];
	cpu_set_t vcpu_pin[VM_MAX_VCPUS];
	bool emulator_pinned;
	cpu_set_t emulator_pin;
	struct backing_cfg backing;
	enum vm_boot boot;
	const char *kernel;
	const char *guest_args;
	const char *initrd;  /* Linux only */
	const char *cmdline; /* Linux only */
	const char *serial; /* --serial spec */
	const char *control; /* control socket path or NULL */
	int pvm_quirks;	    /* -1 auto, 0 off, 1 on */
	bool dirty_log;	    /* start with dirty logging on */
	const char *stats_file; /* write end-of-run statistics as JSON here */
	struct vm_device_spec devices[VM_MAX_DEVICES];
	unsigned nr_devices;
};

struct vm;

int vm_create(const struct vm_cfg *cfg, struct vm **out) __attribute__((warn_unused_result));
/* Run until the guest ends or vm_stop(); returns the exit status (enum vm_exit_status or 128+sig). */
int vm_run(struct vm *vm);
/* Ask the VM to stop with @status; safe from any thread and from signal context. */
void vm_stop(struct vm *vm, int status);
void vm_destroy(struct vm *vm);

/* Check that @set names only CPUs that are online and allowed to this process. On error, @why gets
 * a message naming the CPU. */
int vm_check_cpuset(const cpu_set_t *set, char *why, size_t whylen) __attribute__((warn_unused_result));

#endif
