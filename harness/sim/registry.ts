// The IORegistry: a tree of nodes in the IOService plane; USB devices are also in the IOUSB plane.
import type { PDict } from './plist.ts';
import type { SimState } from './state.ts';

export interface RegNode {
  /** Registry entry id, lowercase hex with 0x (the form `ioreg` and `DK:` lines print). */
  id: string;
  name: string;
  location?: string;
  className: string;
  props: PDict;
  parent: string | null;
  children: string[];
  usbPlane: boolean;
  registered: boolean;
  matched: boolean;
  busyMs: number | null;
  retain: number;
}

export const ROOT_ID = '0x100000100';
export const RESOURCES_NAME = 'IOResources';

export function idOf(n: bigint): string {
  return `0x${n.toString(16)}`;
}

export type NodeInit = Omit<RegNode, 'id' | 'parent' | 'children'> & Partial<Pick<RegNode, 'id'>>;

export class Registry {
  constructor(private readonly state: SimState) {}

  get(id: string): RegNode | undefined {
    return this.state.registry[id];
  }

  mustGet(id: string): RegNode {
    const node = this.state.registry[id];
    if (!node) throw new Error(`registry entry ${id} does not exist`);
    return node;
  }

  all(): RegNode[] {
    return Object.values(this.state.registry);
  }

  root(): RegNode {
    return this.mustGet(ROOT_ID);
  }

  allocId(): string {
    const id = this.state.nextRegistryId;
    this.state.nextRegistryId = id + 1n;
    return idOf(id);
  }

  add(parentId: string | null, init: NodeInit): RegNode {
    const node: RegNode = { ...init, id: init.id ?? this.allocId(), parent: parentId, children: [] };
    this.state.registry[node.id] = node;
    if (parentId) this.mustGet(parentId).children.push(node.id);
    return node;
  }

  /** Detach and delete a node and everything below it; returns the removed nodes, leaves first. */
  remove(id: string): RegNode[] {
    const node = this.get(id);
    if (!node) return [];
    const removed: RegNode[] = [];
    for (const child of [...node.children]) removed.push(...this.remove(child));
    if (node.parent) {
      const parent = this.get(node.parent);
      if (parent) parent.children = parent.children.filter((c) => c !== id);
    }
    delete this.state.registry[id];
    removed.push(node);
    return removed;
  }

  children(node: RegNode): RegNode[] {
    return node.children.map((c) => this.mustGet(c));
  }

  /** Depth-first, parents before children. */
  walk(from: RegNode = this.root()): RegNode[] {
    const out: RegNode[] = [from];
    for (const child of this.children(from)) out.push(...this.walk(child));
    return out;
  }

  findByName(name: string): RegNode | undefined {
    return this.all().find((n) => n.name === name);
  }
}
