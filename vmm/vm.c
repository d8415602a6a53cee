// SPDX-License-Identifier: GPL-2.0-only
#include "vm.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "boot.h"
#include "bus.h"
#include "cpuid.h"
#include "evloop.h"
#include "gmem.h"
#include "guest_abi.h"
#include "kvm.h"
#include "layout.h"
#include "linux.h"
#include "loader.h"
#include "mptable.h"
#include "log.h"
#include "serial.h"
#include "testdev.h"
#include "util.h"
#include "vcpu.h"
#include "vm_priv.h"

#define VM_IMAGE_MAX (256 * MiB)


static int vm_online_cpus(uint64_t mask[16])
{
	FILE *f = fopen("/sys/devices/system/cpu/online", "r");
	char buf[256] = "";
	int ret;

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	ret = parse_cpulist(buf, mask);
	return ret;
}

/* CPUs this process may use, captured before the emulator pin narrows the main thread's mask. */
static cpu_set_t vm_allowed_cpus;
static pthread_once_t vm_allowed_once = PTHREAD_ONCE_INIT;

static void vm_capture_allowed(void)
{
	if (sched_getaffinity(0, sizeof(vm_allowed_cpus), &vm_allowed_cpus) < 0)
		CPU_ZERO(&vm_allowed_cpus);
}

int vm_check_cpuset(const cpu_set_t *set, char *why, size_t whylen)
{
	uint64_t online[16];
	const cpu_set_t *allowed = &vm_allowed_cpus;

	if (CPU_COUNT(set) == 0) {
		snprintf(why, whylen, "empty CPU set");
		return -EINVAL;
	}
	if (vm_online_cpus(online) < 0)
		memset(online, 0xff, sizeof(online));
	pthread_once(&vm_allowed_once, vm_capture_allowed);
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, set))
			continue;
		if (c >= 1024 || !(online[c / 64] & (1ull << (c % 64)))) {
			snprintf(why, whylen, "host CPU %d is not online (see /sys/devices/system/cpu/online)", c);
			return -EINVAL;
		}
		if (!CPU_ISSET(c, allowed)) {
			snprintf(why, whylen,
				 "host CPU %d is not allowed to this process (cgroup cpuset or affinity mask)", c);
			return -EPERM;
		}
	}
	return 0;
}

void vm_stop(struct vm *vm, int status)
{
	int expected = -1;

	__atomic_compare_exchange_n(&vm->status, &expected, status, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	__atomic_store_n(&vm->stop, 1, __ATOMIC_RELEASE);
	if (vm->end_fd >= 0)
		(void)efd_signal(vm->end_fd);
}

static void vm_vcpu_event(void *opaque, struct vcpu *v, enum vcpu_event ev)
{
	struct vm *vm = opaque;

	switch (ev) {
	case VCPU_EV_SHUTDOWN:
		log_err("vCPU %u: guest triple fault (shutdown); state follows", v->id);
		vcpu_dump(v, stderr);
		vm_stop(vm, VM_EXIT_CRASH);
		break;
	case VCPU_EV_INTERNAL_ERROR:
		log_err("vCPU %u: KVM internal error (suberror %u): the instruction could not be emulated; "
			"state follows",
			v->id, v->run->internal.suberror);
		vcpu_dump(v, stderr);
		vm_stop(vm, VM_EXIT_INTERNAL);
		break;
	case VCPU_EV_FAIL_ENTRY:
		log_err("vCPU %u: VM entry failed (reason 0x%llx); state follows", v->id,
			(unsigned long long)v->run->fail_entry.hardware_entry_failure_reason);
		vcpu_dump(v, stderr);
		vm_stop(vm, VM_EXIT_INTERNAL);
		break;
	case VCPU_EV_HALT:
		log_info("vCPU %u: halted with no interrupt source; stopping", v->id);
		vm_stop(vm, VM_EXIT_OK);
		break;
	case VCPU_EV_SYSTEM_RESET:
		log_info("guest requested reset");
		vm_stop(vm, VM_EXIT_RESET);
		break;
	case VCPU_EV_SYSTEM_OFF:
		log_info("guest powered off");
		vm_stop(vm, VM_EXIT_OK);
		break;
	case VCPU_EV_RUN_ERROR:
		vm_stop(vm, VM_EXIT_INTERNAL);
		break;
	}
}

void vm_request_reset(struct vm *vm)
{
	vm_stop(vm, VM_EXIT_RESET);
}

static void vm_testdev_end(void *opaque, int status)
{
	vm_stop(opaque, status);
}

static void vm_serial_irq(void *opaque, int level)
{
	struct vm *vm = opaque;

	(void)kvm_set_irq_level(vm->kvm, SERIAL_COM1_IRQ, level);
}

static int vm_setup_memory(struct vm *vm)
{
	struct backing_cfg bc = vm->cfg.backing;
	uint32_t flags = vm->cfg.dirty_log ? KVM_MEM_LOG_DIRTY_PAGES : 0;
	int ret;

	bc.size = ALIGN_UP(vm->cfg.ram_size, 2 * MiB);
	bc.name = vm->cfg.name;
	ret = layout_compute(bc.size, 2 * MiB, &vm->layout);
	if (ret) {
		log_err("memory: %llu bytes is not a usable guest RAM size (1 MiB .. 64 TiB)",
			(unsigned long long)vm->cfg.ram_size);
		return ret;
	}
	ret = backing_create(&bc, &vm->ram);
	if (ret)
		return ret;
	log_info("guest RAM: %llu MiB backed by %s", (unsigned long long)(bc.size >> 20), vm->ram->desc);
	for (unsigned i = 0; i < vm->layout.nr_banks; i++) {
		const struct mem_bank *b = &vm->layout.bank[i];

		ret = gmem_add_region(&vm->gm, b->gpa, b->size, vm->ram->hva + b->fd_offset, vm->ram->fd,
				      b->fd_offset);
		if (ret)
			return ret;
		ret = kvm_set_memslot(vm->kvm, i, flags, b->gpa, b->size, vm->ram->hva + b->fd_offset);
		if (ret)
			return ret;
	}
	vm->dirty_flags = flags;
	return 0;
}

static int vm_load_guest(struct vm *vm)
{
	struct loader_result res;
	uint8_t *img = NULL;
	size_t len = 0;
	char err[256];
	int ret;

	if (!vm->cfg.kernel) {
		log_err("no guest image: give --kernel FILE (or <os><kernel> in the domain XML)");
		return -EINVAL;
	}
	ret = loader_read_file(vm->cfg.kernel, VM_IMAGE_MAX, &img, &len);
	if (ret) {
		log_err("%s: %s", vm->cfg.kernel, strerror(-ret));
		return ret;
	}
	if (vm->cfg.boot != VM_BOOT_REAL && linux_is_bzimage(img, len))
		vm->cfg.boot = VM_BOOT_LINUX;
	if (vm->cfg.boot == VM_BOOT_LINUX) {
		uint8_t *initrd = NULL;
		size_t initrd_len = 0;
		uint64_t t0 = clock_ns();

		if (vm->cfg.initrd) {
			ret = loader_read_file(vm->cfg.initrd, VM_IMAGE_MAX, &initrd, &initrd_len);
			if (ret) {
				log_err("%s: %s", vm->cfg.initrd, strerror(-ret));
				free(img);
				return ret;
			}
		}
		ret = linux_load(&vm->gm, &vm->layout, img, len, initrd, initrd_len, vm->cfg.cmdline, &vm->linux_boot,
				 err, sizeof(err));
		free(initrd);
		free(img);
		if (ret) {
			log_err("%s: %s", vm->cfg.kernel, err);
			return ret;
		}
		vm->entry = vm->linux_boot.entry;
		log_info("Linux: %s loaded in %.0f ms, entry 0x%llx, initrd %llu KiB, cmdline \"%s\"", vm->cfg.kernel,
			 (double)(clock_ns() - t0) / 1e6, (unsigned long long)vm->entry,
			 (unsigned long long)(vm->linux_boot.initrd_size >> 10), vm->cfg.cmdline ? vm->cfg.cmdline : "");
		return 0;
	}
	if (vm->cfg.boot == VM_BOOT_REAL)
		ret = loader_flat(&vm->gm, img, len, GUEST_REALMODE_LOAD, &res, err, sizeof(err));
	else
		ret = loader_elf64(&vm->gm, img, len, GUEST_ELF_MIN_GPA, &res, err, sizeof(err));
	free(img);
	if (ret) {
		log_err("%s: %s", vm->cfg.kernel, err);
		return ret;
	}
	vm->entry = res.entry;
	log_debug("%s: loaded 0x%llx..0x%llx, entry 0x%llx", vm->cfg.kernel, (unsigned long long)res.lowest,
		  (unsigned long long)res.highest, (unsigned long long)res.entry);
	return 0;
}

static bool vm_host_has_gb_pages(struct kvm *k)
{
	for (uint32_t i = 0; i < k->supported_cpuid->nent; i++)
		if (k->supported_cpuid->entries[i].function == 0x80000001)
			return k->supported_cpuid->entries[i].edx & (1u << 26);
	return false;
}

static int vm_setup_boot(struct vm *vm)
{
	struct boot_info *bi;
	uint64_t map_top;
	int64_t cr3;
	int ret;

	if (vm->cfg.boot == VM_BOOT_REAL)
		return 0;
	/* The identity map covers RAM, the MMIO hole and the 64-bit PCI window above RAM. */
	map_top = vm->layout.pci_mmio64_base + VM_PCI_MMIO64_SIZE;
	cr3 = boot_build_page_tables(&vm->gm, map_top, vm_host_has_gb_pages(vm->kvm), true);
	if (cr3 < 0) {
		log_err("cannot build boot page tables for %llu MiB: %s",
			(unsigned long long)(layout_ram_top(&vm->layout) >> 20), strerror((int)-cr3));
		return (int)cr3;
	}
	vm->cr3 = (uint64_t)cr3;
	ret = boot_build_gdt(&vm->gm, vm->cfg.nr_vcpus);
	if (ret)
		return ret;
	if (vm->cfg.boot == VM_BOOT_LINUX) {
		uint32_t sig = 0, feat = 0;

		for (uint32_t i = 0; i < vm->kvm->supported_cpuid->nent; i++) {
			if (vm->kvm->supported_cpuid->entries[i].function == 1) {
				sig = vm->kvm->supported_cpuid->entries[i].eax;
				feat = vm->kvm->supported_cpuid->entries[i].edx;
			}
		}
		ret = mptable_write(&vm->gm, vm->cfg.nr_vcpus, sig, feat);
		if (ret)
			log_err("MP table: %s", strerror(-ret));
		return ret;
	}
	bi = gmem_ptr(&vm->gm, GUEST_BOOT_INFO_GPA, sizeof(*bi));
	if (!bi)
		return -EFAULT;
	memset(bi, 0, sizeof(*bi));
	bi->magic = BOOT_INFO_MAGIC;
	bi->nr_vcpus = vm->cfg.nr_vcpus;
	bi->ram_size = vm->layout.ram_size;
	bi->ram_top = layout_ram_top(&vm->layout);
	bi->map_top = ALIGN_UP(map_top, GiB);
	bi->nr_e820 = vm->layout.nr_e820;
	for (unsigned i = 0; i < vm->layout.nr_e820 && i < 16; i++) {
		bi->e820[i].addr = vm->layout.e820[i].addr;
		bi->e820[i].size = vm->layout.e820[i].size;
		bi->e820[i].type = vm->layout.e820[i].type;
	}
	if (vm->cfg.guest_args)
		snprintf(bi->args, sizeof(bi->args), "%s", vm->cfg.guest_args);
	return 0;
}

/* LINT0 = ExtINT (the 8259 behind the local APIC), LINT1 = NMI, as firmware leaves them for Linux. */
static int vm_lapic_lint(struct vcpu *v)
{
	struct kvm_lapic_state la;
	uint32_t lvt0, lvt1;

	if (!v->env->kvm->irqchip)
		return 0;
	if (ioctl(v->fd, KVM_GET_LAPIC, &la) < 0)
		return -errno;
	memcpy(&lvt0, la.regs + 0x350, 4);
	memcpy(&lvt1, la.regs + 0x360, 4);
	lvt0 = (lvt0 & ~0x700u & ~0x10000u) | (7u << 8); /* delivery mode ExtINT, unmasked */
	lvt1 = (lvt1 & ~0x700u & ~0x10000u) | (4u << 8); /* delivery mode NMI, unmasked */
	memcpy(la.regs + 0x350, &lvt0, 4);
	memcpy(la.regs + 0x360, &lvt1, 4);
	return ioctl(v->fd, KVM_SET_LAPIC, &la) < 0 ? -errno : 0;
}

/* Runs on each vCPU thread before the start barrier. */
static int vm_vcpu_prepare(struct vcpu *v, void *opaque)
{
	struct vm *vm = opaque;
	struct cpuid_cfg cc = {
		.vcpu_id = v->id,
		.nr_vcpus = vm->cfg.nr_vcpus,
		.pvm_quirks = vm->cfg.pvm_quirks < 0 ? vm->kvm->pvm : vm->cfg.pvm_quirks,
	};
	int ret = cpuid_setup(vm->kvm, v->fd, &cc);

	if (ret)
		return ret;
	ret = msr_setup(vm->kvm, v->fd);
	if (ret < 0) {
		log_err("vCPU %u: MSR set-up: %s", v->id, strerror(-ret));
		return ret;
	}
	if (vm->cfg.boot == VM_BOOT_REAL) {
		ret = boot_set_real_mode(v->fd, 0, GUEST_REALMODE_LOAD);
	} else if (vm->cfg.boot == VM_BOOT_LINUX) {
		/* The boot CPU enters startup_64; application processors wait for INIT/SIPI from Linux. */
		ret = vm_lapic_lint(v);
		if (!ret && v->id == 0) {
			struct boot_long_mode lm = {
				.entry = vm->entry,
				.cr3 = vm->cr3,
				.rsp = GUEST_RSP0_TOP(0),
				.rsi = vm->linux_boot.zero_page,
				.vcpu_id = 0,
			};
			ret = boot_set_long_mode(v->fd, &lm);
		}
	} else {
		/* Freestanding guests start every vCPU at the entry point; with an in-kernel LAPIC,
		 * application processors would otherwise wait for INIT/SIPI. */
		struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

		if (v->id && vm->kvm->irqchip && ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0) {
			ret = -errno;
			log_err("vCPU %u: KVM_SET_MP_STATE: %s", v->id, strerror(errno));
			return ret;
		}
		struct boot_long_mode lm = {
			.entry = vm->entry,
			.cr3 = vm->cr3,
			.rsp = GUEST_RSP0_TOP(v->id),
			.rdi = v->id,
			.rsi = vm->cfg.nr_vcpus,
			.rdx = GUEST_BOOT_INFO_GPA,
			.vcpu_id = v->id,
		};
		ret = boot_set_long_mode(v->fd, &lm);
	}
	if (ret)
		log_err("vCPU %u: initial register state: %s", v->id, strerror(-ret));
	return ret;
}

static void vm_end_cb(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct vm *vm = opaque;

	(void)events;
	efd_drain(fd);
	if (__atomic_load_n(&vm->stop, __ATOMIC_ACQUIRE))
		evloop_stop(loop);
}

static void vm_signal_cb(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct vm *vm = opaque;
	struct signalfd_siginfo si;

	(void)loop;
	(void)events;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	log_info("received signal %u, stopping the VM", si.ssi_signo);
	vm_stop(vm, 128 + (int)si.ssi_signo);
}

static int vm_setup_loop(struct vm *vm)
{
	sigset_t set;
	int ret;

	ret = evloop_create(&vm->loop);
	if (ret)
		return ret;
	vm->end_fd = efd_create();
	if (vm->end_fd < 0)
		return vm->end_fd;
	ret = evloop_add(vm->loop, vm->end_fd, EPOLLIN, vm_end_cb, vm);
	if (ret)
		return ret;
	/* SIGINT/SIGTERM/SIGHUP are taken through a signalfd on the control thread; the vCPU threads
	 * inherit the blocked mask and never see them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	vm->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (vm->sig_fd < 0)
		return -errno;
	return evloop_add(vm->loop, vm->sig_fd, EPOLLIN, vm_signal_cb, vm);
}

static void vm_guest_reset(void *opaque)
{
	vm_stop(opaque, VM_EXIT_RESET);
}

static int vm_setup_devices(struct vm *vm)
{
	struct legacy_ops lops = { .reset = vm_guest_reset, .opaque = vm };
	struct irq_line serial_irq = { .set_level = vm_serial_irq, .opaque = vm };
	struct testdev_ops tops = { .end = vm_testdev_end, .opaque = vm };
	int ret;

	ret = serial_create(vm->cfg.serial, &serial_irq, &vm->serial);
	if (ret)
		return ret;
	ret = bus_register(&vm->pio, SERIAL_COM1_BASE, 8, &serial_bus_ops, vm->serial, "com1");
	if (ret)
		return ret;
	ret = serial_attach_loop(vm->serial, vm->loop);
	if (ret)
		return ret;
	if (strncmp(serial_describe(vm->serial), "pty:", 4) == 0 ||
	    strncmp(serial_describe(vm->serial), "unix:", 5) == 0)
		log_info("serial console on %s", serial_describe(vm->serial));
	ret = legacy_create(&vm->pio, &lops, &vm->legacy);
	if (ret)
		return ret;
	ret = testdev_create(&vm->gm, vm->cfg.nr_vcpus, &tops, &vm->testdev);
	if (ret)
		return ret;
	return testdev_register(vm->testdev, &vm->pio);
}

int vm_create(const struct vm_cfg *cfg, struct vm **out)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	char why[160];
	int ret;

	if (!vm)
		return -ENOMEM;
	vm->cfg = *cfg;
	vm->status = -1;
	pthread_mutex_init(&vm->bar_slot_lock, NULL);
	vm->end_fd = vm->sig_fd = -1;

	pthread_once(&vm_allowed_once, vm_capture_allowed);
	if (cfg->nr_vcpus < 1 || cfg->nr_vcpus > VM_MAX_VCPUS) {
		log_err("vcpus: %u is out of range 1..%d", cfg->nr_vcpus, VM_MAX_VCPUS);
		ret = -EINVAL;
		goto err;
	}
	/* Every pin is checked before anything is created, so a bad pin costs nothing. */
	for (unsigned i = 0; i < cfg->nr_vcpus; i++) {
		if (cfg->vcpu_pinned[i] && (ret = vm_check_cpuset(&cfg->vcpu_pin[i], why, sizeof(why)))) {
			log_err("vcpupin: vCPU %u cannot be pinned: %s", i, why);
			goto err;
		}
	}
	if (cfg->emulator_pinned) {
		ret = vm_check_cpuset(&cfg->emulator_pin, why, sizeof(why));
		if (ret) {
			log_err("emulatorpin: %s", why);
			goto err;
		}
		/* Applied to this thread now: every VMM thread created later inherits it; vCPU threads
		 * then apply their own pin. */
		ret = -pthread_setaffinity_np(pthread_self(), sizeof(cfg->emulator_pin), &cfg->emulator_pin);
		if (ret) {
			log_err("emulatorpin: %s", strerror(-ret));
			goto err;
		}
	}
	ret = kvm_open("/dev/kvm", &vm->kvm);
	if (ret)
		goto err;
	if ((int)cfg->nr_vcpus > vm->kvm->max_vcpus) {
		log_err("vcpus: %u exceeds this host's KVM limit of %d", cfg->nr_vcpus, vm->kvm->max_vcpus);
		ret = -EINVAL;
		goto err;
	}
	if (vm->kvm->pvm)
		log_info("host KVM is kvm_pvm (no hardware virtualization): CPUID quirks %s",
			 cfg->pvm_quirks == 0 ? "off" : "on");
	ret = kvm_setup_irqchip(vm->kvm);
	if (ret)
		goto err;
	ret = bus_init(&vm->pio, "pio");
	if (ret)
		goto err;
	vm->pio_init = true;
	ret = bus_init(&vm->mmio, "mmio");
	if (ret)
		goto err;
	vm->mmio_init = true;
	ret = vm_setup_memory(vm);
	if (ret)
		goto err;
	ret = vm_setup_loop(vm);
	if (ret)
		goto err;
	ret = vm_setup_devices(vm);
	if (ret)
		goto err;
	ret = devices_create(vm);
	if (ret)
		goto err;
	ret = vm_load_guest(vm);
	if (ret)
		goto err;
	ret = vm_setup_boot(vm);
	if (ret)
		goto err;

	vm->env = (struct vcpu_env){
		.kvm = vm->kvm,
		.pio = &vm->pio,
		.mmio = &vm->mmio,
		.gm = &vm->gm,
		.opaque = vm,
		.event = vm_vcpu_event,
		.stop = &vm->stop,
	};
	vcpu_init_signals();
	for (unsigned i = 0; i < cfg->nr_vcpus; i++) {
		ret = vcpu_create(&vm->env, i, &vm->vcpu[i]);
		if (ret)
			goto err;
		if (cfg->vcpu_pinned[i]) {
			vm->vcpu[i]->pinned = true;
			vm->vcpu[i]->pin = cfg->vcpu_pin[i];
		}
		vm->vcpu[i]->prepare = vm_vcpu_prepare;
		vm->vcpu[i]->prepare_opaque = vm;
	}
	ret = control_init(vm);
	if (ret)
		goto err;
	*out = vm;
	return 0;
err:
	log_err("VM '%s' was not started (%s)", cfg->name ? cfg->name : "guest", strerror(-ret));
	vm_destroy(vm);
	return ret;
}

int vm_run(struct vm *vm)
{
	unsigned n = vm->cfg.nr_vcpus;
	int ret, start_error = 0;

	pthread_barrier_init(&vm->barrier, NULL, n + 1);
	for (unsigned i = 0; i < n; i++) {
		vm->vcpu[i]->start_barrier = &vm->barrier;
		ret = vcpu_start(vm->vcpu[i]);
		if (ret) {
			/* Threads already started wait on the barrier forever otherwise. */
			log_err("vCPU %u: cannot start thread: %s", i, strerror(-ret));
			vm_stop(vm, VM_EXIT_CONFIG);
			for (unsigned j = i; j < n; j++)
				vm->vcpu[j]->start_error = ret;
			for (unsigned j = i; j < n; j++)
				pthread_barrier_wait(&vm->barrier);
			break;
		}
	}
	pthread_barrier_wait(&vm->barrier);
	for (unsigned i = 0; i < n; i++)
		if (vm->vcpu[i]->start_error)
			start_error = vm->vcpu[i]->start_error;
	if (start_error) {
		vm_stop(vm, VM_EXIT_CONFIG);
	} else {
		for (unsigned i = 0; i < n; i++)
			if (vm->vcpu[i]->pinned)
				log_info("vCPU %u: thread %d pinned to CPU %d%s", i, (int)vm->vcpu[i]->tid,
					 cpuset_first(&vm->vcpu[i]->pin),
					 CPU_COUNT(&vm->vcpu[i]->pin) > 1 ? " (and others)" : "");
		log_info("VM '%s' running: %u vCPU(s), %llu MiB", vm->cfg.name ? vm->cfg.name : "guest", n,
			 (unsigned long long)(vm->layout.ram_size >> 20));
		control_started(vm);
	}
	while (!__atomic_load_n(&vm->stop, __ATOMIC_ACQUIRE)) {
		ret = evloop_run(vm->loop, -1);
		if (ret) {
			log_err("control loop: %s", strerror(-ret));
			vm_stop(vm, VM_EXIT_INTERNAL);
		}
	}
	for (unsigned i = 0; i < n; i++)
		vcpu_kick(vm->vcpu[i]);
	for (unsigned i = 0; i < n; i++)
		vcpu_join(vm->vcpu[i]);
	pthread_barrier_destroy(&vm->barrier);
	control_report(vm);
	return __atomic_load_n(&vm->status, __ATOMIC_ACQUIRE);
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	control_fini(vm);
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++)
		vcpu_destroy(vm->vcpu[i]);
	devices_destroy(vm);
	testdev_destroy(vm->testdev);
	legacy_destroy(vm->legacy);
	serial_destroy(vm->serial);
	evloop_destroy(vm->loop);
	if (vm->end_fd >= 0)
		close(vm->end_fd);
	if (vm->sig_fd >= 0)
		close(vm->sig_fd);
	if (vm->pio_init)
		bus_fini(&vm->pio);
	if (vm->mmio_init)
		bus_fini(&vm->mmio);
	kvm_close(vm->kvm);
	backing_destroy(vm->ram);
	free(vm);
}

int vm_dirty_log_set(struct vm *vm, bool on)
{
	uint32_t flags = on ? KVM_MEM_LOG_DIRTY_PAGES : 0;

	for (unsigned i = 0; i < vm->layout.nr_banks; i++) {
		const struct mem_bank *b = &vm->layout.bank[i];
		int ret = kvm_set_memslot(vm->kvm, i, flags, b->gpa, b->size, vm->ram->hva + b->fd_offset);

		if (ret)
			return ret;
	}
	vm->dirty_flags = flags;
	return 0;
}

long vm_dirty_log_fetch(struct vm *vm, void (*cb)(void *opaque, uint64_t gpa), void *opaque)
{
	long total = 0;

	if (!(vm->dirty_flags & KVM_MEM_LOG_DIRTY_PAGES))
		return -ENOTCONN;
	for (unsigned i = 0; i < vm->layout.nr_banks; i++) {
		const struct mem_bank *b = &vm->layout.bank[i];
		uint64_t pages = b->size / 4096, words = (pages + 63) / 64;
		uint64_t *bm = calloc(words, sizeof(uint64_t));
		int ret;

		if (!bm)
			return -ENOMEM;
		ret = kvm_get_dirty_log(vm->kvm, i, bm);
		if (ret) {
			free(bm);
			return ret;
		}
		for (uint64_t w = 0; w < words; w++) {
			for (uint64_t bit = 0; bm[w] && bit < 64; bit++) {
				if (!(bm[w] & (1ull << bit)))
					continue;
				total++;
				if (cb)
					cb(opaque, b->gpa + (w * 64 + bit) * 4096);
			}
		}
		free(bm);
	}
	return total;
}
