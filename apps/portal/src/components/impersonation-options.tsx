"use client";
// The "Reason", "Reason category", "Ticket" and "Read-only" fields that go with every
// impersonation button on a page.
import { REASON_CATEGORIES, REASON_MAX, type ReasonCategory } from "@cowork/validators";

export interface ImpersonationChoice {
  reason: string;
  readOnly: boolean;
  /** "" until one is chosen. */
  reasonCategory?: ReasonCategory | "";
  ticket?: string;
}

export const REASON_CATEGORY_LABELS: Record<ReasonCategory, string> = {
  member_request: "Member request",
  billing: "Billing",
  technical_issue: "Technical issue",
  security_review: "Security review",
  other: "Other",
};

export function ImpersonationOptions({
  value,
  onChange,
}: {
  value: ImpersonationChoice;
  onChange: (next: ImpersonationChoice) => void;
}) {
  return (
    <div className="options">
      <div className="field">
        <label htmlFor="reason">Reason</label>
        <input
          id="reason"
          name="reason"
          type="text"
          maxLength={REASON_MAX}
          value={value.reason}
          aria-describedby="reason-hint"
          onChange={(event) => onChange({ ...value, reason: event.target.value })}
        />
        <p id="reason-hint" className="hint">
          Recorded in the audit log and in the member's access history. Some locations require a
          reason and a category.
        </p>
      </div>
      <div className="field">
        <label htmlFor="reason-category">Category</label>
        <select
          id="reason-category"
          name="reasonCategory"
          value={value.reasonCategory ?? ""}
          onChange={(event) =>
            onChange({ ...value, reasonCategory: event.target.value as ReasonCategory | "" })
          }
        >
          <option value="">Not given</option>
          {REASON_CATEGORIES.map((category) => (
            <option key={category} value={category}>
              {REASON_CATEGORY_LABELS[category]}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="ticket">Ticket</label>
        <input
          id="ticket"
          name="ticket"
          type="text"
          maxLength={64}
          pattern="[A-Za-z0-9._#/\-]{1,64}"
          value={value.ticket ?? ""}
          aria-describedby="ticket-hint"
          onChange={(event) => onChange({ ...value, ticket: event.target.value })}
        />
        <p id="ticket-hint" className="hint">
          Optional. A ticket reference: letters, digits and . _ # / - only.
        </p>
      </div>
      <div className="field field-check">
        <input
          id="read-only"
          name="readOnly"
          type="checkbox"
          checked={value.readOnly}
          aria-describedby="read-only-hint"
          onChange={(event) => onChange({ ...value, readOnly: event.target.checked })}
        />
        <label htmlFor="read-only">Read-only</label>
        <p id="read-only-hint" className="hint">
          See what they see without being able to change anything.
        </p>
      </div>
    </div>
  );
}
