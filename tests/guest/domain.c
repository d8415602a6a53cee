// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfv-vmm --domain: a libvirt domain XML sets the name, memory, vCPUs, pinning, memory backing, kernel
 * and command line (seen by the guest as boot_info args) and devices (a <disk> at its PCI <address>
 * becomes virtio-blk there); what the VMM cannot do alone is
 * refused with the element's line.
 */
#ifdef GUEST
#include "guest.h"

static void user_part(void)
{
	GUEST_PRINTF("args '%s', %lu MiB, %u vCPUs", guest_boot_info->args,
		     (unsigned long)(guest_boot_info->ram_size >> 20), guest_boot_info->nr_vcpus);
	GUEST_DONE();
}

void guest_main(unsigned vcpu, unsigned nr, struct boot_info *bi)
{
	(void)vcpu, (void)nr, (void)bi;
	guest_enter_user(user_part);
}
#else
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	char xml[4096], path[] = "/tmp/nfv-domain-test-XXXXXX.xml", disk[] = "/tmp/nfv-domain-disk-XXXXXX";
	struct vmm_proc p;
	int fd, st;
	int two = sysconf(_SC_NPROCESSORS_ONLN) >= 2;

	if (argc < 3)
		return 2;
	fd = mkstemps(path, 4);
	if (fd < 0)
		return 1;
	close(fd);
	fd = mkstemp(disk);
	if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
		return 1;
	close(fd);
	snprintf(xml, sizeof(xml),
		 "<domain type='kvm'>\n"
		 "  <name>xmltest</name>\n"
		 "  <memory unit='MiB'>128</memory>\n"
		 "  <vcpu placement='static'>2</vcpu>\n"
		 "  <cputune>\n"
		 "    <vcpupin vcpu='0' cpuset='%s'/>\n"
		 "    <vcpupin vcpu='1' cpuset='0'/>\n"
		 "    <emulatorpin cpuset='0'/>\n"
		 "  </cputune>\n"
		 "  <os>\n"
		 "    <type arch='x86_64' machine='q35'>hvm</type>\n"
		 "    <kernel>%s</kernel>\n"
		 "    <cmdline>console=ttyS0 mode=test</cmdline>\n"
		 "  </os>\n"
		 "  <devices>\n"
		 "    <disk type='file' device='disk'>\n"
		 "      <driver name='qemu' type='raw' cache='none' io='io_uring'/>\n"
		 "      <source file='%s'/>\n"
		 "      <target dev='vda' bus='virtio'/>\n"
		 "      <serial>xmldisk</serial>\n"
		 "      <address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/>\n"
		 "    </disk>\n"
		 "    <serial type='pty'><target port='0'/></serial>\n"
		 "  </devices>\n"
		 "</domain>\n",
		 two ? "1" : "0", argv[2], disk);
	write_file(path, xml);
	{
		const char *args[] = { "--domain", path, NULL };

		st = vmm_run(&p, argv[1], argv[2], args, 60);
	}
	HOST_ASSERT(&p, st == 0, "exit status %d", st);
	HOST_ASSERT(&p, vmm_output_has(&p, "VM 'xmltest' running: 2 vCPU(s), 128 MiB"), "name/vcpus/memory not applied");
	HOST_ASSERT(&p, vmm_output_has(&p, "args 'console=ttyS0 mode=test', 128 MiB, 2 vCPUs"), "cmdline not passed");
	HOST_ASSERT(&p, vmm_output_has(&p, two ? "vCPU 0: thread" : "vCPU 1: thread") &&
				vmm_output_has(&p, two ? "pinned to CPU 1" : "pinned to CPU 0"),
		    "vcpupin not applied");
	HOST_ASSERT(&p, vmm_output_has(&p, "memfd (4 KiB pages)"), "no <hugepages>: expected plain memfd backing");
	HOST_ASSERT(&p, vmm_output_has(&p, "PCI 00:07.0: virtio-blk@07"), "<disk> not attached at its <address> slot");
	vmm_cleanup(&p);

	/* A bridge interface needs nfvd; the error names the file and line. */
	snprintf(xml, sizeof(xml),
		 "<domain type='kvm'>\n  <name>xmlbad</name>\n  <memory unit='MiB'>64</memory>\n  <vcpu>1</vcpu>\n"
		 "  <os><type arch='x86_64'>hvm</type><kernel>%s</kernel></os>\n  <devices>\n"
		 "    <interface type='bridge'>\n      <source bridge='nfv0'/>\n      <model type='virtio'/>\n"
		 "    </interface>\n  </devices>\n</domain>\n",
		 argv[2]);
	write_file(path, xml);
	{
		const char *args[] = { "--domain", path, NULL };

		st = vmm_run(&p, argv[1], argv[2], args, 60);
	}
	HOST_ASSERT(&p, st == 2, "bridge interface: exit status %d, want 2", st);
	HOST_ASSERT(&p, vmm_output_has(&p, ":7: <interface type='bridge'>"), "error does not name the line");
	vmm_cleanup(&p);

	/* Garbage XML: the parser's message, status 2. */
	write_file(path, "<domain type='kvm'><name>x</name>\n<memory>oops</memory></domain>\n");
	{
		const char *args[] = { "--domain", path, NULL };

		st = vmm_run(&p, argv[1], argv[2], args, 60);
	}
	HOST_ASSERT(&p, st == 2, "bad XML: exit status %d, want 2", st);
	vmm_cleanup(&p);
	unlink(path);
	unlink(disk);
	printf("domain: ok\n");
	return 0;
}
#endif
