// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfv-vmm: one KVM virtual machine per process.
 *
 *   nfv-vmm --kernel guest.elf [--memory 64M] [--vcpus 2] [--vcpu-pin 0:1,1:0] [--emulator-pin 0]
 *           [--mem-backing auto|hugetlbfs|memfd-hugetlb|memfd] [--serial stdio|file:P|pty|unix:P|none]
 *           [--control PATH] ...
 *
 * Exit status: see enum vm_exit_status in vm.h (0 ok, 1 guest failure, 2 configuration error,
 * 3 triple fault, 4 internal error, 5 reset, 128+N signal N).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "domain_cfg.h"
#include "vm.h"
#include "vm_priv.h"
#include "sandbox.h"

uint64_t vmm_start_ns;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: nfv-vmm --kernel FILE [options]\n"
		"  -d, --domain FILE        libvirt domain XML (name, memory, vcpus, pinning, hugepages, kernel,\n"
		"                           vhost-user interfaces, disks); later options override it\n"
		"  -k, --kernel FILE        guest image: freestanding ELF64 (64-bit entry), or flat with --real-mode\n"
		"      --initrd FILE        Linux initrd (with a bzImage or --boot linux)\n"
		"      --cmdline STR        Linux command line\n"
		"      --boot MODE          elf (freestanding, default), linux (bzImage is detected), real\n"
		"      --real-mode          load FILE as a flat binary at 0x7c00 and start in 16-bit real mode\n"
		"  -n, --name NAME          VM name (logs, memfd names)\n"
		"  -m, --memory SIZE        guest RAM, e.g. 64M, 2G (default 64M)\n"
		"  -c, --vcpus N            number of vCPUs (default 1)\n"
		"      --vcpu-pin LIST      pin vCPUs to host CPUs: 0:1,1:0 or 0:2-3 (vcpu:cpulist, ...)\n"
		"      --emulator-pin LIST  host CPUs for the VMM's own threads, e.g. 0\n"
		"      --mem-backing MODE   auto (hugepages, logged memfd fallback), hugetlbfs, memfd-hugetlb, memfd\n"
		"      --hugetlbfs DIR      hugetlbfs mount (default /dev/hugepages)\n"
		"      --mem-lock           mlock guest RAM\n"
		"      --prefault           populate guest RAM before the guest starts\n"
		"      --serial SPEC        stdio (default), file:PATH, pty, unix:PATH, none\n"
		"      --control PATH       control socket (JSON lines)\n"
		"      --device SPEC        add a PCI device (repeatable): virtio-net,socket=P[,mode=client|server][,mac=M]\n"
		"                           virtio-blk,path=F[,readonly=on]  ne2k-pci,backend=tap:IF|vhost-user:P\n"
		"                           vfio-pci,host=dddd:bb:dd.f  pci-testdev   (common option: slot=N)\n"
		"      --guest-args STR     string passed to freestanding guests in boot_info.args\n"
		"      --cpuid-quirks MODE  auto (default), on, off: mask CPU features this host cannot emulate\n"
		"      --dirty-log          start with dirty-page logging on\n"
		"      --stats-file PATH    write end-of-run statistics as JSON\n"
		"      --log-level LEVEL    err, warn, info (default), debug\n"
		"      --log-file PATH      log to PATH instead of stderr\n"
		"      --user USER          once the VM is set up, run as USER: NAME, UID or UID:GID\n"
		"      --seccomp MODE       on (default): kill on a system call outside the allow-list;\n"
		"                           log: log such calls and allow them; off\n"
		"      --seccomp-selftest   TEST ONLY: make one forbidden system call once confined\n"
		"  -h, --help               this text\n");
}

/* "0:1,1:0" or "0:1-2,4,1:0": a token with ':' starts a vCPU's list, others extend it. */
static int parse_vcpu_pins(const char *spec, struct vm_cfg *cfg)
{
	char *copy = strdup(spec), *save = NULL, *tok;
	char lists[VM_MAX_VCPUS][256];
	bool seen[VM_MAX_VCPUS] = { false };
	int cur = -1, ret = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');

		if (colon) {
			uint64_t v;

			*colon = '\0';
			if (parse_u64(tok, &v) || v >= VM_MAX_VCPUS) {
				log_err("--vcpu-pin: '%s' is not a vCPU number below %d", tok, VM_MAX_VCPUS);
				ret = -EINVAL;
				goto out;
			}
			cur = (int)v;
			if (seen[cur]) {
				log_err("--vcpu-pin: vCPU %d is listed twice", cur);
				ret = -EINVAL;
				goto out;
			}
			seen[cur] = true;
			snprintf(lists[cur], sizeof(lists[cur]), "%s", colon + 1);
		} else if (cur >= 0 && strlen(lists[cur]) + strlen(tok) + 2 < sizeof(lists[cur])) {
			strcat(lists[cur], ",");
			strcat(lists[cur], tok);
		} else {
			log_err("--vcpu-pin: expected vcpu:cpulist, got '%s'", tok);
			ret = -EINVAL;
			goto out;
		}
	}
	for (int i = 0; i < VM_MAX_VCPUS; i++) {
		if (!seen[i])
			continue;
		if (parse_cpuset(lists[i], &cfg->vcpu_pin[i])) {
			log_err("--vcpu-pin: vCPU %d: '%s' is not a CPU list", i, lists[i]);
			ret = -EINVAL;
			goto out;
		}
		cfg->vcpu_pinned[i] = true;
	}
out:
	free(copy);
	return ret;
}

static int parse_cpuset_arg(const char *opt, const char *s, cpu_set_t *set)
{
	if (parse_cpuset(s, set)) {
		log_err("%s: '%s' is not a CPU list", opt, s);
		return -EINVAL;
	}
	return 0;
}

enum {
	OPT_REAL = 256,
	OPT_PIN,
	OPT_EMUPIN,
	OPT_BACKING,
	OPT_HUGEDIR,
	OPT_LOCK,
	OPT_PREFAULT,
	OPT_SERIAL,
	OPT_CONTROL,
	OPT_GARGS,
	OPT_QUIRKS,
	OPT_DIRTY,
	OPT_STATS,
	OPT_LOGLEVEL,
	OPT_LOGFILE,
	OPT_DEVICE,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_BOOT,
	OPT_USER,
	OPT_SECCOMP,
	OPT_SECCOMP_SELFTEST,
};

static const struct option long_opts[] = {
	{ "domain", required_argument, NULL, 'd' },
	{ "kernel", required_argument, NULL, 'k' },
	{ "real-mode", no_argument, NULL, OPT_REAL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "boot", required_argument, NULL, OPT_BOOT },
	{ "name", required_argument, NULL, 'n' },
	{ "memory", required_argument, NULL, 'm' },
	{ "vcpus", required_argument, NULL, 'c' },
	{ "vcpu-pin", required_argument, NULL, OPT_PIN },
	{ "emulator-pin", required_argument, NULL, OPT_EMUPIN },
	{ "mem-backing", required_argument, NULL, OPT_BACKING },
	{ "hugetlbfs", required_argument, NULL, OPT_HUGEDIR },
	{ "mem-lock", no_argument, NULL, OPT_LOCK },
	{ "prefault", no_argument, NULL, OPT_PREFAULT },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "guest-args", required_argument, NULL, OPT_GARGS },
	{ "cpuid-quirks", required_argument, NULL, OPT_QUIRKS },
	{ "dirty-log", no_argument, NULL, OPT_DIRTY },
	{ "stats-file", required_argument, NULL, OPT_STATS },
	{ "log-level", required_argument, NULL, OPT_LOGLEVEL },
	{ "log-file", required_argument, NULL, OPT_LOGFILE },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "user", required_argument, NULL, OPT_USER },
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ "seccomp-selftest", no_argument, NULL, OPT_SECCOMP_SELFTEST },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	struct vm_cfg cfg = {
		.name = "guest",
		.ram_size = 64 * MiB,
		.nr_vcpus = 1,
		.serial = "stdio",
		.pvm_quirks = -1,
		.boot = VM_BOOT_ELF64,
	};
	struct sandbox_cfg sandbox_cfg = { .seccomp = SCF_ON };
	struct vm *vm = NULL;
	void *domain_keep = NULL;
	FILE *logf = NULL;
	int opt, ret;

	vmm_start_ns = clock_ns();
	log_set_ident("nfv-vmm");
	while ((opt = getopt_long(argc, argv, "d:k:n:m:c:h", long_opts, NULL)) != -1) {
		uint64_t v;
		enum log_level lvl;

		switch (opt) {
		case 'd':
			if (domain_keep) {
				log_err("--domain given twice");
				return VM_EXIT_CONFIG;
			}
			if (domain_cfg_load(optarg, &cfg, &domain_keep))
				return VM_EXIT_CONFIG;
			break;
		case 'k':
			cfg.kernel = optarg;
			break;
		case OPT_REAL:
			cfg.boot = VM_BOOT_REAL;
			break;
		case OPT_INITRD:
			cfg.initrd = optarg;
			break;
		case OPT_CMDLINE:
			cfg.cmdline = optarg;
			break;
		case OPT_BOOT:
			if (!strcmp(optarg, "elf"))
				cfg.boot = VM_BOOT_ELF64;
			else if (!strcmp(optarg, "linux"))
				cfg.boot = VM_BOOT_LINUX;
			else if (!strcmp(optarg, "real"))
				cfg.boot = VM_BOOT_REAL;
			else {
				log_err("--boot: '%s' is not elf, linux or real", optarg);
				return VM_EXIT_CONFIG;
			}
			break;
		case 'n':
			cfg.name = optarg;
			break;
		case 'm':
			if (parse_size(optarg, &v) || v == 0) {
				log_err("--memory: '%s' is not a size like 64M or 2G", optarg);
				return VM_EXIT_CONFIG;
			}
			/* A bare number means MiB, as QEMU's -m does. */
			cfg.ram_size = strspn(optarg, "0123456789") == strlen(optarg) ? v * MiB : v;
			break;
		case 'c':
			if (parse_u64(optarg, &v) || v < 1 || v > VM_MAX_VCPUS) {
				log_err("--vcpus: '%s' is not a number from 1 to %d", optarg, VM_MAX_VCPUS);
				return VM_EXIT_CONFIG;
			}
			cfg.nr_vcpus = (unsigned)v;
			break;
		case OPT_PIN:
			if (parse_vcpu_pins(optarg, &cfg))
				return VM_EXIT_CONFIG;
			break;
		case OPT_EMUPIN:
			if (parse_cpuset_arg("--emulator-pin", optarg, &cfg.emulator_pin))
				return VM_EXIT_CONFIG;
			cfg.emulator_pinned = true;
			break;
		case OPT_BACKING:
			if (backing_mode_parse(optarg, &cfg.backing.mode)) {
				log_err("--mem-backing: '%s' is not one of auto, hugetlbfs, memfd-hugetlb, memfd",
					optarg);
				return VM_EXIT_CONFIG;
			}
			break;
		case OPT_HUGEDIR:
			cfg.backing.hugetlbfs_dir = optarg;
			break;
		case OPT_LOCK:
			cfg.backing.lock = true;
			break;
		case OPT_PREFAULT:
			cfg.backing.prefault = true;
			break;
		case OPT_SERIAL:
			cfg.serial = optarg;
			break;
		case OPT_CONTROL:
			cfg.control = optarg;
			break;
		case OPT_GARGS:
			cfg.guest_args = optarg;
			break;
		case OPT_QUIRKS:
			if (!strcmp(optarg, "auto"))
				cfg.pvm_quirks = -1;
			else if (!strcmp(optarg, "on"))
				cfg.pvm_quirks = 1;
			else if (!strcmp(optarg, "off"))
				cfg.pvm_quirks = 0;
			else {
				log_err("--cpuid-quirks: '%s' is not auto, on or off", optarg);
				return VM_EXIT_CONFIG;
			}
			break;
		case OPT_DIRTY:
			cfg.dirty_log = true;
			break;
		case OPT_STATS:
			cfg.stats_file = optarg;
			break;
		case OPT_LOGLEVEL:
			if (log_level_parse(optarg, &lvl)) {
				log_err("--log-level: '%s' is not err, warn, info or debug", optarg);
				return VM_EXIT_CONFIG;
			}
			log_set_level(lvl);
			break;
		case OPT_LOGFILE:
			logf = fopen(optarg, "a");
			if (!logf) {
				log_err("--log-file %s: %s", optarg, strerror(errno));
				return VM_EXIT_CONFIG;
			}
			log_set_stream(logf);
			break;
		case OPT_DEVICE: {
			char why[200];

			if (cfg.nr_devices == VM_MAX_DEVICES) {
				log_err("--device: at most %d devices", VM_MAX_DEVICES);
				return VM_EXIT_CONFIG;
			}
			if (devices_check_spec(optarg, why, sizeof(why))) {
				log_err("--device %s: %s", optarg, why);
				return VM_EXIT_CONFIG;
			}
			snprintf(cfg.devices[cfg.nr_devices++].spec, VM_DEVICE_SPEC_MAX, "%s", optarg);
			break;
		}
		case OPT_USER:
			if (sandbox_set_user(&sandbox_cfg, optarg))
				return VM_EXIT_CONFIG;
			break;
		case OPT_SECCOMP:
			if (sandbox_set_seccomp(&sandbox_cfg, optarg))
				return VM_EXIT_CONFIG;
			break;
		case OPT_SECCOMP_SELFTEST:
			sandbox_cfg.selftest = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return VM_EXIT_CONFIG;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument '%s'", argv[optind]);
		return VM_EXIT_CONFIG;
	}
	for (unsigned i = cfg.nr_vcpus; i < VM_MAX_VCPUS; i++) {
		if (cfg.vcpu_pinned[i]) {
			log_err("--vcpu-pin: vCPU %u does not exist (the VM has %u)", i, cfg.nr_vcpus);
			return VM_EXIT_CONFIG;
		}
	}

	ret = vm_create(&cfg, &vm);
	if (ret) {
		domain_cfg_free(domain_keep);
		return VM_EXIT_CONFIG;
	}
	if (sandbox_apply(&sandbox_cfg)) {
		vm_destroy(vm);
		domain_cfg_free(domain_keep);
		return VM_EXIT_CONFIG;
	}
	ret = vm_run(vm);
	vm_destroy(vm);
	domain_cfg_free(domain_keep);
	log_info("exit status %d", ret);
	if (logf)
		fclose(logf);
	return ret;
}
