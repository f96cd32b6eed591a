// Client addresses as one text each, and the TRUSTED_PROXIES list. An address keys sign-in limits
// and is written to the audit log, so every spelling of one address must become the same text:
// otherwise `2001:DB8::1`, `2001:db8:0:0:0:0:0:1` and `::ffff:192.0.2.1` would each get a fresh
// budget. Parsing and printing are ipaddr.js's; node's isIP gates what reaches it, because
// ipaddr.js also takes the legacy IPv4 spellings (`127.1`, `0x7f.0.0.1`, `0177.0.0.1`) that no
// socket reports and no proxy should write.
import ipaddr from "ipaddr.js";
import { isIP } from "node:net";

type Address = ipaddr.IPv4 | ipaddr.IPv6;

const DOTTED_TAIL = /:(\d+)\.(\d+)\.(\d+)\.(\d+)(%.*)?$/;

/**
 * An address node's isIP accepts, parsed. An IPv6 text ending in dotted IPv4 is first rewritten
 * to its two hex groups: ipaddr.js reads `::a.b.c.d` (the deprecated IPv4-compatible form) as
 * `::ffff:a.b.c.d`, so `::10.0.0.1` and its other spelling `::a00:1` would part ways.
 */
function parseChecked(text: string): Address | null {
  const family = isIP(text);
  if (family === 0) return null;
  if (family === 4) return ipaddr.IPv4.parse(text);
  const hex = text.replace(
    DOTTED_TAIL,
    (_all, a: string, b: string, c: string, d: string, zone?: string) => {
      const group = (high: string, low: string) => ((Number(high) << 8) | Number(low)).toString(16);
      return `:${group(a, b)}:${group(c, d)}${zone ?? ""}`;
    },
  );
  return ipaddr.IPv6.parse(hex);
}

/** Parses a strictly spelled address; an IPv4-mapped IPv6 address becomes its IPv4 address. */
function parseStrict(text: string): Address | null {
  const address = parseChecked(text);
  if (!address) return null;
  if (address.kind() === "ipv4") return address;
  const v6 = address as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
  // A zone index (`fe80::1%eth0`) names an interface of the machine that wrote it, not a client.
  return new ipaddr.IPv6(v6.parts);
}

const print = (address: Address) =>
  address.kind() === "ipv6" ? (address as ipaddr.IPv6).toRFC5952String() : address.toString();

/**
 * The one text of an address: RFC 5952 for IPv6 (lower case, zeros compressed the one way),
 * dotted decimal for IPv4 and for IPv4-mapped IPv6; null when the text is not an address.
 */
export function canonicalAddress(text: string): string | null {
  const address = parseStrict(text.trim());
  return address ? print(address) : null;
}

/** The configured proxies: single addresses and CIDR ranges, IPv4 and IPv6. */
export class TrustedProxies implements Iterable<string> {
  private constructor(private readonly ranges: readonly (readonly [Address, number])[]) {}

  static readonly none = new TrustedProxies([]);

  /**
   * Parses a comma-separated list. Throws an Error naming the first entry that is neither an
   * address nor a CIDR range, or a range with host bits set (`10.0.0.1/8` is refused rather
   * than read as `10.0.0.0/8`: the writer meant one of two things, and we cannot tell which).
   */
  static parse(list: string): TrustedProxies {
    const ranges: [Address, number][] = [];
    for (const entry of list
      .split(",")
      .map((value) => value.trim())
      .filter(Boolean)) {
      ranges.push(parseRange(entry));
    }
    return new TrustedProxies(ranges);
  }

  get size(): number {
    return this.ranges.length;
  }

  /** Whether a client address (any spelling) is one of the proxies or inside one of the ranges. */
  has(text: string): boolean {
    const address = parseStrict(text.trim());
    if (!address) return false;
    return this.ranges.some(
      ([network, bits]) => network.kind() === address.kind() && address.match(network, bits),
    );
  }

  /** Each entry in its canonical text: the address alone for a single host, else CIDR. */
  *[Symbol.iterator](): Iterator<string> {
    for (const [network, bits] of this.ranges) {
      const full = network.kind() === "ipv4" ? 32 : 128;
      yield bits === full ? print(network) : `${print(network)}/${bits}`;
    }
  }
}

function parseRange(entry: string): [Address, number] {
  const slash = entry.indexOf("/");
  const addressText = slash === -1 ? entry : entry.slice(0, slash);
  const parsed = parseChecked(addressText);
  if (!parsed) throw new Error(`"${entry}" is not an IP address or CIDR range`);
  const full = parsed.kind() === "ipv4" ? 32 : 128;
  let bits = full;
  if (slash !== -1) {
    const prefix = entry.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefix) || Number(prefix) > full)
      throw new Error(`"${entry}" has a prefix length outside 0-${full}`);
    bits = Number(prefix);
  }
  let network: Address =
    parsed.kind() === "ipv6" ? new ipaddr.IPv6((parsed as ipaddr.IPv6).parts) : parsed;
  // An IPv4-mapped range matches the IPv4 addresses it maps, as client addresses are IPv4 then.
  if (network.kind() === "ipv6" && (network as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    network = (network as ipaddr.IPv6).toIPv4Address();
    bits -= 96;
  }
  const first =
    network.kind() === "ipv4"
      ? ipaddr.IPv4.networkAddressFromCIDR(`${network.toString()}/${bits}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${network.toString()}/${bits}`);
  if (print(first) !== print(network))
    throw new Error(`"${entry}" has host bits set (the range starts at ${print(first)}/${bits})`);
  return [network, bits];
}

/**
 * Whether an address (any spelling node's isIP accepts) is a public unicast address: not
 * private, loopback, link-local, unique-local, carrier-grade NAT, multicast, unspecified,
 * broadcast, reserved or documentation space, and not an IPv6 form that carries an IPv4 address
 * (mapped ones are judged as their IPv4 address; 6to4, Teredo and NAT64 are refused). ipaddr.js
 * names every special range; only its `unicast` is the public Internet.
 */
export function isPublicAddress(text: string): boolean {
  const address = parseStrict(text.trim());
  return address !== null && address.range() === "unicast";
}
