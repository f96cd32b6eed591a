// Every spelling of one address must key the same limit, and TRUSTED_PROXIES ranges must match
// exactly the addresses inside them.
import { describe, expect, it } from "vitest";
import { canonicalAddress, TrustedProxies } from "./addresses";

describe("canonicalAddress", () => {
  it("gives every spelling of one IPv6 address the RFC 5952 text", () => {
    for (const spelling of [
      "2001:db8::1",
      "2001:DB8::1",
      "2001:0db8:0000:0000:0000:0000:0000:0001",
      "2001:db8::0:1",
      "2001:db8:0:0:0:0:0:1",
      "2001:0DB8::0001",
      " 2001:db8::1 ",
      "2001:db8::1%eth0",
    ]) {
      expect(canonicalAddress(spelling), spelling).toBe("2001:db8::1");
    }
    // RFC 5952 §4.2.2-4.2.3: the longest run of zeros is compressed, the first of equal runs.
    expect(canonicalAddress("2001:db8:0:0:1:0:0:1")).toBe("2001:db8::1:0:0:1");
    expect(canonicalAddress("2001:0:0:1:0:0:0:1")).toBe("2001:0:0:1::1");
    // §4.2.2: a single zero field is not compressed.
    expect(canonicalAddress("2001:db8:0:1:1:1:1:1")).toBe("2001:db8:0:1:1:1:1:1");
    expect(canonicalAddress("0:0:0:0:0:0:0:1")).toBe("::1");
  });

  it("turns IPv4-mapped IPv6 into IPv4, in any spelling", () => {
    for (const spelling of [
      "::ffff:192.0.2.1",
      "::FFFF:192.0.2.1",
      "::ffff:c000:201",
      "0:0:0:0:0:ffff:c000:0201",
      "192.0.2.1",
    ]) {
      expect(canonicalAddress(spelling), spelling).toBe("192.0.2.1");
    }
    // IPv4-compatible (deprecated) and NAT64 addresses are other addresses: left IPv6.
    expect(canonicalAddress("64:ff9b::192.0.2.1")).toBe("64:ff9b::c000:201");
    expect(canonicalAddress("::10.0.0.1")).toBe("::a00:1");
    expect(canonicalAddress("::0:a00:1")).toBe("::a00:1");
  });

  it("refuses what is not one strictly spelled address", () => {
    for (const text of [
      "",
      "localhost",
      "127.1",
      "0x7f.0.0.1",
      "0177.0.0.1",
      "127.0.0.01",
      "2130706433",
      "[2001:db8::1]",
      "192.0.2.1:8080",
      "2001:db8::1/64",
      "2001:db8:::1",
      "1.2.3.4\u0000",
    ]) {
      expect(canonicalAddress(text), text).toBeNull();
    }
  });
});

describe("TrustedProxies", () => {
  it("matches single addresses in any spelling", () => {
    const proxies = TrustedProxies.parse("10.0.0.1, 2001:DB8::0:1, ::ffff:192.0.2.7");
    expect([...proxies]).toEqual(["10.0.0.1", "2001:db8::1", "192.0.2.7"]);
    expect(proxies.size).toBe(3);
    for (const address of [
      "10.0.0.1",
      "::ffff:10.0.0.1",
      "2001:0db8:0000:0000:0000:0000:0000:0001",
      "192.0.2.7",
    ]) {
      expect(proxies.has(address), address).toBe(true);
    }
    for (const address of ["10.0.0.2", "2001:db8::2", "::10.0.0.1", "not an address", ""]) {
      expect(proxies.has(address), address).toBe(false);
    }
  });

  it("matches CIDR ranges, IPv4 and IPv6, at their exact edges", () => {
    const proxies = TrustedProxies.parse("10.0.0.0/8,192.168.4.0/22,2001:db8:ab00::/40,fd00::/8");
    expect([...proxies]).toEqual([
      "10.0.0.0/8",
      "192.168.4.0/22",
      "2001:db8:ab00::/40",
      "fd00::/8",
    ]);
    for (const address of [
      "10.0.0.0",
      "10.255.255.255",
      "::ffff:10.1.2.3",
      "192.168.4.0",
      "192.168.7.255",
      "2001:db8:ab00::",
      "2001:DB8:ABFF:FFFF:FFFF:FFFF:FFFF:FFFF",
      "fd12:3456::1",
    ]) {
      expect(proxies.has(address), address).toBe(true);
    }
    for (const address of [
      "11.0.0.0",
      "9.255.255.255",
      "192.168.3.255",
      "192.168.8.0",
      "2001:db8:aa00::1",
      "2001:db8:ac00::",
      "fe80::1",
    ]) {
      expect(proxies.has(address), address).toBe(false);
    }
  });

  it("takes an IPv4-mapped range as the IPv4 range it maps", () => {
    const proxies = TrustedProxies.parse("::ffff:10.0.0.0/104");
    expect([...proxies]).toEqual(["10.0.0.0/8"]);
    expect(proxies.has("10.9.9.9")).toBe(true);
    expect(proxies.has("::ffff:10.9.9.9")).toBe(true);
    expect(proxies.has("11.0.0.1")).toBe(false);
  });

  it("a /0 range trusts every address of its family only", () => {
    const proxies = TrustedProxies.parse("0.0.0.0/0");
    expect(proxies.has("203.0.113.9")).toBe(true);
    expect(proxies.has("2001:db8::1")).toBe(false);
  });

  it("refuses entries that are not an address or a range, and ranges with host bits set", () => {
    for (const entry of [
      "proxy.internal",
      "10.0.0.0/33",
      "2001:db8::/129",
      "10.0.0.0/",
      "10.0.0.0/08",
      "10.0.0.0/-1",
      "10.0.0.0/8/8",
      "10.1",
      "10.0.0.1/8",
      "2001:db8::1/64",
      "[::1]",
    ]) {
      expect(() => TrustedProxies.parse(entry), entry).toThrow(/"/);
    }
    expect(TrustedProxies.parse(" , ").size).toBe(0);
  });
});
