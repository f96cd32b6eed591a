// What an impersonated session did (CONTRACT §9), folded under "Actions (N)": each call, when,
// whether it read or changed something, and what became of it. Renders on the server (the
// member's access history) and in the browser (the audit log) alike: no hooks, no handlers.
import type { ImpersonationAction } from "@cowork/validators";
import { Fragment } from "react";

const OUTCOME = {
  success: { text: "done", badge: "badge badge-success" },
  refused: { text: "refused", badge: "badge badge-refused" },
  error: { text: "failed", badge: "badge" },
} as const;

/** `profiles.setCurrentProfile` with a line-break opportunity after the dot (narrow screens). */
function Procedure({ name }: { name: string }) {
  const parts = name.split(/(?<=\.)/);
  return (
    <code>
      {parts.map((part, index) => (
        <Fragment key={index}>
          {index > 0 ? <wbr /> : null}
          {part}
        </Fragment>
      ))}
    </code>
  );
}

export function SessionActions({
  actions,
  total = actions.length,
  formatTime,
}: {
  actions: readonly ImpersonationAction[];
  /** How many calls there were in all, when `actions` holds only the first ones. */
  total?: number;
  formatTime: (iso: string) => string;
}) {
  if (total === 0) return <span className="hint">No actions recorded</span>;
  return (
    <details className="session-actions">
      <summary>{`Actions (${total})`}</summary>
      <ol>
        {actions.map((action, index) => (
          <li key={index}>
            <time dateTime={action.at}>{formatTime(action.at)}</time>{" "}
            <Procedure name={action.procedure} />{" "}
            <span className="hint">{action.kind === "mutation" ? "change" : "read"}</span>{" "}
            <span className={OUTCOME[action.outcome].badge}>{OUTCOME[action.outcome].text}</span>
          </li>
        ))}
      </ol>
      {total > actions.length ? (
        <p className="hint">{`The first ${actions.length} of ${total} are shown.`}</p>
      ) : null}
    </details>
  );
}
