// How the guest's initramfs picks its kernel and orders its modules (test/support/qemu/initramfs.ts),
// on made-up /boot and /lib/modules trees: no qemu needed.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { findKernel, GuestSetupError, moduleLoadOrder } from '../support/qemu/initramfs.ts';
import { tempDir } from '../support/temp.ts';

function tree(versions: Record<string, { image?: boolean; dep?: string; builtin?: string }>): { boot: string; modules: string } {
  const root = tempDir('dextbench-kernels-');
  const boot = join(root, 'boot');
  const modules = join(root, 'lib', 'modules');
  mkdirSync(boot, { recursive: true });
  for (const [version, v] of Object.entries(versions)) {
    mkdirSync(join(modules, version), { recursive: true });
    if (v.image !== false) writeFileSync(join(boot, `vmlinuz-${version}`), '');
    if (v.dep !== undefined) writeFileSync(join(modules, version, 'modules.dep'), v.dep);
    if (v.builtin !== undefined) writeFileSync(join(modules, version, 'modules.builtin'), v.builtin);
  }
  return { boot, modules };
}

test('the kernel: the newest version that has both an image in /boot and its modules.dep', () => {
  const { boot, modules } = tree({ '6.1.0-9-amd64': { dep: '' }, '6.1.0-10-amd64': { dep: '' }, '6.1.0-11-amd64': { image: false, dep: '' }, '6.2.0-1-amd64': {} });
  assert.deepEqual(findKernel(boot, modules), {
    version: '6.1.0-10-amd64', image: join(boot, 'vmlinuz-6.1.0-10-amd64'), modulesDir: join(modules, '6.1.0-10-amd64'),
  });
});

test('no usable kernel is one line that says what to install', () => {
  const { boot, modules } = tree({ '6.1.0-11-amd64': { image: false, dep: '' } });
  assert.throws(() => findKernel(boot, modules), (error: Error) => error instanceof GuestSetupError
    && error.message === `no Linux kernel with its modules (${boot}/vmlinuz-<version> and ${modules}/<version>/modules.dep): apt-get install linux-image-amd64`);
});

const DEP = [
  'kernel/drivers/usb/common/usb-common.ko:',
  'kernel/drivers/usb/core/usbcore.ko: kernel/drivers/usb/common/usb-common.ko',
  'kernel/drivers/usb/gadget/udc/udc-core.ko: kernel/drivers/usb/common/usb-common.ko',
  'kernel/drivers/usb/gadget/udc/dummy_hcd.ko: kernel/drivers/usb/gadget/udc/udc-core.ko kernel/drivers/usb/core/usbcore.ko kernel/drivers/usb/common/usb-common.ko',
  'kernel/drivers/usb/gadget/libcomposite.ko: kernel/drivers/usb/gadget/udc/udc-core.ko kernel/drivers/usb/common/usb-common.ko kernel/fs/configfs/configfs.ko',
  'kernel/fs/configfs/configfs.ko:',
  '',
].join('\n');

test('modules: each after the modules it depends on (as modules.dep says), each once, built-ins left out', () => {
  const { boot, modules } = tree({ '6.1.0-9-amd64': { dep: DEP, builtin: 'kernel/fs/configfs/configfs.ko\n' } });
  assert.deepEqual(moduleLoadOrder(findKernel(boot, modules), ['libcomposite', 'dummy_hcd']), [
    'kernel/drivers/usb/common/usb-common.ko',
    'kernel/drivers/usb/gadget/udc/udc-core.ko',
    'kernel/drivers/usb/gadget/libcomposite.ko',
    'kernel/drivers/usb/core/usbcore.ko',
    'kernel/drivers/usb/gadget/udc/dummy_hcd.ko',
  ]);
});

test('a module the kernel lacks, or a compressed one, is one line naming it', () => {
  const { boot, modules } = tree({ '6.1.0-9-amd64': { dep: `${DEP}kernel/drivers/usb/gadget/function/usb_f_hid.ko.xz: kernel/drivers/usb/gadget/libcomposite.ko\n` } });
  const kernel = findKernel(boot, modules);
  assert.throws(() => moduleLoadOrder(kernel, ['dummy_hcd', 'usb_f_ss_lb']),
    new GuestSetupError(`kernel 6.1.0-9-amd64 has no module usb_f_ss_lb (wanted by the guest) in ${kernel.modulesDir}/modules.dep`));
  assert.throws(() => moduleLoadOrder(kernel, ['usb_f_hid']),
    new GuestSetupError(`${kernel.modulesDir}/kernel/drivers/usb/gadget/function/usb_f_hid.ko.xz is compressed; busybox insmod loads only plain .ko files (this kernel package is not the Debian 12 one the lane expects)`));
});
