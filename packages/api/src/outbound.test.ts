// The outbound address rules (CONTRACT §9, §2 OUTBOUND_ALLOW_HOSTS): which addresses count as
// public, which URLs registration takes, and what delivery connects to.
import { describe, expect, it } from "vitest";
import { isPublicAddress } from "./addresses";
import { loadConfig } from "./config";
import { OutboundAllowList, OutboundRefused, outboundTarget, urlRefusal } from "./outbound";

describe("isPublicAddress", () => {
  it("refuses every special range, in every spelling", () => {
    for (const address of [
      "10.0.0.1",
      "172.16.5.4",
      "192.168.1.1",
      "127.0.0.1",
      "127.255.255.254",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "255.255.255.255",
      "224.0.0.1",
      "192.0.2.1",
      "198.18.0.1",
      "::1",
      "::",
      "fe80::1",
      "fd00::1",
      "fc00::1",
      "ff02::1",
      "::ffff:127.0.0.1",
      "::ffff:10.0.0.1",
      "::ffff:7f00:1",
      "64:ff9b::7f00:1",
      "2002:7f00:1::1",
      "2001:db8::1",
      "not an address",
      "",
    ])
      expect(isPublicAddress(address), address).toBe(false);
  });

  it("takes public unicast addresses", () => {
    for (const address of ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"])
      expect(isPublicAddress(address), address).toBe(true);
  });
});

describe("OUTBOUND_ALLOW_HOSTS", () => {
  it("matches hosts literally, case and brackets aside, addresses in any spelling", () => {
    const allow = loadConfig({
      OUTBOUND_ALLOW_HOSTS: "Receiver.Internal, 127.0.0.1, [::1]",
    }).outboundAllowHosts;
    expect(allow.size).toBe(3);
    expect(allow.has("receiver.internal")).toBe(true);
    expect(allow.has("[::1]")).toBe(true);
    expect(allow.has("[0:0:0:0:0:0:0:1]")).toBe(true);
    expect(allow.has("127.0.0.1")).toBe(true);
    expect(allow.has("sub.receiver.internal")).toBe(false);
    expect(allow.has("127.0.0.2")).toBe(false);
    expect(allow.has("localhost")).toBe(false);
    expect(loadConfig({}).outboundAllowHosts.size).toBe(0);
  });
});

describe("urlRefusal (registration)", () => {
  const allow = OutboundAllowList.parse("receiver.internal,127.0.0.1");
  it("takes https with a public host, and any http(s) URL of an allowed host", () => {
    for (const url of [
      "https://hooks.example.com/x",
      "https://8.8.8.8/x",
      "http://receiver.internal:9000/x",
      "https://receiver.internal/x",
      "http://127.0.0.1:8080/x",
    ])
      expect(urlRefusal(url, allow), url).toBeNull();
  });
  it("refuses other schemes, http to a public host, and non-public hosts", () => {
    for (const url of [
      "ftp://hooks.example.com/x",
      "gopher://hooks.example.com/x",
      "http://hooks.example.com/x",
      "https://127.0.0.2/x",
      "https://0x7f.0.0.2/x",
      "https://[::ffff:127.0.0.2]/x",
      "https://localhost/x",
      "https://api.localhost/x",
      "https://printer.local/x",
      "https://metadata.google.internal/x",
      "https://intranet/x",
    ])
      expect(urlRefusal(url, allow), url).not.toBeNull();
  });
});

describe("outboundTarget (delivery)", () => {
  const none = OutboundAllowList.none;
  const resolver =
    (...addresses: string[]) =>
    () =>
      Promise.resolve(
        addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 })),
      );

  it("connects to the address it checked", async () => {
    await expect(
      outboundTarget(new URL("https://hooks.example.com/"), none, resolver("93.184.215.14")),
    ).resolves.toEqual({ address: "93.184.215.14", family: 4 });
    await expect(outboundTarget(new URL("https://8.8.8.8/"), none, resolver())).resolves.toEqual({
      address: "8.8.8.8",
      family: 4,
    });
  });

  it("refuses a name with any non-public address, or none", async () => {
    for (const answer of [["127.0.0.1"], ["93.184.215.14", "10.0.0.1"], ["::1"], []]) {
      await expect(
        outboundTarget(new URL("https://hooks.example.com/"), none, resolver(...answer)),
      ).rejects.toBeInstanceOf(OutboundRefused);
    }
  });

  it("leaves an allowed host's resolution to the connection, and refuses http elsewhere", async () => {
    const allow = OutboundAllowList.parse("localhost");
    await expect(
      outboundTarget(new URL("http://localhost:1/"), allow, resolver()),
    ).resolves.toBeNull();
    await expect(
      outboundTarget(new URL("http://hooks.example.com/"), none, resolver("93.184.215.14")),
    ).rejects.toBeInstanceOf(OutboundRefused);
    await expect(
      outboundTarget(new URL("https://[fe80::1]/"), none, resolver()),
    ).rejects.toBeInstanceOf(OutboundRefused);
  });
});
