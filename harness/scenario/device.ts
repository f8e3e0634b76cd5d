// devices/*.yaml → DeviceProfile: the USB identity, interfaces and endpoints of a device, the
// driver that should match it, and how to emulate it.
import { resolve } from 'node:path';
import { isMap } from 'yaml';
import { z } from 'zod';
import type { DeviceProfile } from '../rig/types.ts';
import { bundleId, resolveFrom } from './common.ts';
import { showValue, ValidationError, type ValidationIssue } from './issues.ts';
import { parseWithIssues } from './zod-issues.ts';
import { notAMapIssue, readYamlFile, type YamlFile } from './yaml.ts';

const uint = (max: number, what: string) => z
  .number({ error: (issue) => `expected ${what} (0 to 0x${max.toString(16)}), got ${showValue(issue.input)}` })
  .int({ error: (issue) => `expected ${what} (0 to 0x${max.toString(16)}), got ${showValue(issue.input)}` })
  .min(0, { error: (issue) => `expected ${what} (0 to 0x${max.toString(16)}), got ${showValue(issue.input)}` })
  .max(max, { error: (issue) => `expected ${what} (0 to 0x${max.toString(16)}), got ${showValue(issue.input)}` });

export const deviceSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  usb: z.strictObject({
    vendorId: uint(0xffff, 'a 16-bit vendor id like 0x1d6b'),
    productId: uint(0xffff, 'a 16-bit product id like 0x0104'),
    product: z.string().optional(),
    manufacturer: z.string().optional(),
    serial: z.string().optional(),
    bcdDevice: uint(0xffff, 'a 16-bit BCD release number like 0x0100').optional(),
    speed: z.enum(['low', 'full', 'high', 'super']).optional(),
  }),
  interfaces: z.array(z.strictObject({
    number: uint(0xff, 'an interface number'),
    class: uint(0xff, 'a USB class code like 0xff'),
    subclass: uint(0xff, 'a USB subclass code').optional(),
    protocol: uint(0xff, 'a USB protocol code').optional(),
    endpoints: z.array(z.strictObject({
      address: uint(0xff, 'an endpoint address like 0x81 (IN) or 0x01 (OUT)'),
      type: z.enum(['bulk', 'interrupt', 'isochronous', 'control']),
      maxPacketSize: z.number().int().min(1).max(65535).optional(),
    })),
  })),
  driver: z.strictObject({
    bundle: bundleId,
    userClass: z.string().min(1).meta({ description: 'The IOUserClass of the driver\'s service (IOKitPersonalities).' }),
    provider: z.enum(['IOUSBHostDevice', 'IOUSBHostInterface']).optional(),
  }).optional().meta({ description: 'The driver that should match this device.' }),
  proto: z.string().min(1).optional().meta({ description: 'The device\'s extension .proto for the channel (relative to this file).' }),
  emulation: z.strictObject({
    sim: z.strictObject({ model: z.enum(['loopback']) }).optional(),
  }).optional(),
  emulate: z.strictObject({
    functions: z.array(z.union([
      z.enum(['loopback', 'sourcesink', 'acm']),
      z.strictObject({ hid: z.strictObject({
        reportDescriptor: z.string().regex(/^\s*([0-9a-fA-F]{2}\s*)+$/, { error: (issue) => `expected the HID report descriptor as hex bytes like "05 01 09 06 a1 01 … c0", got ${showValue(issue.input)}` }),
        protocol: uint(0xff, 'a HID protocol (1 keyboard, 2 mouse, 0 none)').optional(),
        subclass: uint(0xff, 'a HID subclass (1 boot interface, 0 none)').optional(),
        reportLength: z.number().int().min(1).max(65535),
      }) }),
      z.strictObject({ ffs: z.strictObject({ name: z.string().regex(/^[A-Za-z0-9_-]+$/, { error: (issue) => `expected a FunctionFS instance name of letters, digits, _ and -, got ${showValue(issue.input)}` }) }) }),
    ])).min(1),
    udc: z.string().min(1).optional().meta({ description: 'The USB device controller (an entry of /sys/class/udc); default the board\'s only one.' }),
    maxPower: z.number().int().min(0).max(900).optional().meta({ description: 'The configuration\'s bMaxPower, in mA.' }),
  }).optional().meta({ description: 'How a Linux board with a USB device controller plays this device as a configfs gadget (harness/emulate).' }),
});

export function loadDeviceProfile(file: string): DeviceProfile {
  const path = resolve(file);
  const { yaml, issues } = readYamlFile(path);
  if (!yaml) throw new ValidationError(issues);
  const result = deviceFromYaml(yaml);
  if (issues.length || !result.profile) throw new ValidationError([...issues, ...result.issues]);
  return result.profile;
}

export function deviceFromYaml(yaml: YamlFile): { profile?: DeviceProfile; issues: ValidationIssue[] } {
  if (!isMap(yaml.doc.contents)) {
    return { issues: [notAMapIssue(yaml, 'a device profile is a map of keys (name, usb, interfaces, …)')] };
  }
  const parsed = parseWithIssues<z.output<typeof deviceSchema>>({ yaml, schema: deviceSchema, input: yaml.doc.toJS(), basePath: [], rootLabel: 'device profile' });
  if (!parsed.ok) return { issues: parsed.issues };
  const d = parsed.value;
  const profile: DeviceProfile = { file: yaml.file, name: d.name, usb: d.usb, interfaces: d.interfaces };
  if (d.description !== undefined) profile.description = d.description;
  if (d.driver) profile.driver = d.driver;
  if (d.proto !== undefined) profile.proto = resolveFrom(yaml.file, d.proto);
  if (d.emulation) profile.emulation = d.emulation;
  if (d.emulate) profile.emulate = d.emulate;
  return { profile, issues: [] };
}
