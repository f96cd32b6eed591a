// Test assertions on refusals: the contract's status and code behind whatever a procedure threw.
import { expect } from "vitest";
import { type DomainError, domainErrorOf } from "./errors";

/** The domain error a call was refused with; fails the test when the call succeeded. */
export async function refusal(promise: Promise<unknown>, label = "call"): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    return domainErrorOf(error);
  }
  return expect.fail(`${label}: expected a refusal, but the call succeeded`);
}

export async function expectRefused(
  promise: Promise<unknown>,
  status: number,
  code: string,
  label = "call",
): Promise<void> {
  const error = await refusal(promise, label);
  expect({ status: error.status, code: error.code }, label).toEqual({ status, code });
}
