// A zx script for the `script:` step (see echo-script-ioreg.yaml). `$` runs on the rig's Mac,
// locally or over ssh. It finds the rig device named by args[0] in the IORegistry, by the USB ids of
// its device profile, and returns where it sits: its node name, its location (as in `name@location`)
// and its locationID, as text so that the number stays exact.
export default async function ({ $, args, rig }) {
  const [role] = args;
  const device = rig.devices.find((d) => d.role === role);
  if (!device) throw new Error(`the rig has no device "${role}" (it has ${rig.devices.map((d) => d.role).join(', ')})`);
  const { vendorId, productId } = device.profile.usb;

  const ioreg = await $`ioreg -l -w0 -r -c IOUSBHostDevice`;
  const nodes = ioreg.stdout.split(/^[ |]*\+-o /m).slice(1).map(parseNode);
  const found = nodes.filter((n) => n.className === 'IOUSBHostDevice' && n.props.idVendor === String(vendorId) && n.props.idProduct === String(productId));
  if (found.length !== 1) {
    throw new Error(`expected one ${role} (${hex(vendorId)}:${hex(productId)}) in the IORegistry, found ${found.length}`);
  }
  const { name, location, props } = found[0];
  return { name, location, locationID: props.locationID };
}

/** `Loopback@01120000  <class IOUSBHostDevice, …>` and its `"key" = value` lines (values as text);
 * with -l, the device's interfaces carry its idVendor and idProduct too. */
function parseNode(text) {
  const [header, ...lines] = text.split('\n');
  const m = /^(.*?)@([0-9a-fA-F]+)\s+<class (\w+)/.exec(header);
  const props = {};
  for (const line of lines) {
    const p = /^[ |]*"([^"]+)" = (.*)$/.exec(line);
    if (p) props[p[1]] = p[2].replace(/^"(.*)"$/, '$1');
  }
  return { name: m?.[1], location: m?.[2], className: m?.[3], props };
}

function hex(n) {
  return `0x${n.toString(16).padStart(4, '0')}`;
}
