"use client";
// The "Reason" and "Read-only" fields that go with every impersonation button on a page.
import { REASON_MAX } from "@cowork/validators";

export interface ImpersonationChoice {
  reason: string;
  readOnly: boolean;
}

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
          Optional. Recorded in the audit log and in the member's access history.
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
