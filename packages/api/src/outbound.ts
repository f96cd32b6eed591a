// Where webhook deliveries may go (CONTRACT §9, "Outbound addresses"; §2 OUTBOUND_ALLOW_HOSTS).
// A URL is accepted when it is https with a public host, or its host is named in the allow list
// (then http too). At delivery an unlisted host name is resolved and refused when any of its
// addresses is not public, and the connection goes to the address that was checked, so a name
// that changes its answer between the check and the connection (DNS rebinding) gains nothing.
import { isIP } from "node:net";
import { canonicalAddress, isPublicAddress } from "./addresses";

/** A URL's host without IPv6 brackets, lower case; an address in its canonical text. */
function hostKey(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return canonicalAddress(bare) ?? bare.replace(/\.$/, "");
}

const HOST_NAME =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

/** The hosts named in OUTBOUND_ALLOW_HOSTS: names and addresses, matched literally. */
export class OutboundAllowList {
  private constructor(private readonly hosts: ReadonlySet<string>) {}

  static readonly none = new OutboundAllowList(new Set());

  /** Parses a comma-separated list; throws an Error naming the first entry that is not a host. */
  static parse(list: string): OutboundAllowList {
    const hosts = new Set<string>();
    for (const entry of list
      .split(",")
      .map((value) => value.trim())
      .filter(Boolean)) {
      const bare = entry.replace(/^\[(.*)\]$/, "$1");
      if (canonicalAddress(bare) === null && !HOST_NAME.test(bare))
        throw new Error(`"${entry}" is not a host name or IP address (no scheme, port or path)`);
      hosts.add(hostKey(bare));
    }
    return new OutboundAllowList(hosts);
  }

  get size(): number {
    return this.hosts.size;
  }

  /** Whether a URL's host (`hostname`, brackets or not) is one of the list's. */
  has(host: string): boolean {
    return this.hosts.has(hostKey(host));
  }
}

/** Names that are this machine's or its network's by definition, never the public Internet's. */
const LOCAL_NAME = /(^|\.)(localhost|local|internal|home\.arpa|lan|intranet)\.?$/i;

/**
 * Why a webhook URL is refused at registration, or null when it may be called: https with a
 * public host (an address that is public, or a name that is not local by definition; names are
 * checked again, resolved, at each delivery), or any http(s) URL whose host is allowed.
 */
export function urlRefusal(text: string, allow: OutboundAllowList): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "The URL is not an absolute URL.";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return "Only https URLs (http for hosts in OUTBOUND_ALLOW_HOSTS) can receive webhooks.";
  if (allow.has(url.hostname)) return null;
  if (url.protocol !== "https:") return "Only https URLs can receive webhooks.";
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (isIP(host) !== 0) {
    return isPublicAddress(host) ? null : "The URL's address is not a public address.";
  }
  if (!host.includes(".") || LOCAL_NAME.test(host)) return "The URL's host is not a public host.";
  return null;
}

/** A resolver: every address of a name (node's dns.lookup with `all`, by default). */
export type Resolve = (host: string) => Promise<{ address: string; family: number }[]>;

export class OutboundRefused extends Error {
  override name = "OutboundRefused";
}

/**
 * The address a delivery to `url` connects to: an allowed host's own resolution (null: let the
 * connection resolve it), an address literal when public, or the first address of a name whose
 * addresses are all public. Throws OutboundRefused otherwise.
 */
export async function outboundTarget(
  url: URL,
  allow: OutboundAllowList,
  resolve: Resolve,
): Promise<{ address: string; family: number } | null> {
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new OutboundRefused(`scheme ${url.protocol} is not delivered to`);
  if (allow.has(url.hostname)) return null;
  if (url.protocol !== "https:") throw new OutboundRefused("http is only for allowed hosts");
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const family = isIP(host);
  if (family !== 0) {
    if (!isPublicAddress(host)) throw new OutboundRefused(`${host} is not a public address`);
    return { address: host, family };
  }
  const addresses = await resolve(host);
  if (addresses.length === 0) throw new OutboundRefused(`${host} has no address`);
  const inner = addresses.find((candidate) => !isPublicAddress(candidate.address));
  if (inner)
    throw new OutboundRefused(`${host} resolves to ${inner.address}, not a public address`);
  return addresses[0]!;
}
