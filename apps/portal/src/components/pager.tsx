"use client";
// Previous/next paging over a cursor list: the lists of the console and the audit log.

export function Pager({
  label,
  page,
  busy,
  hasNext,
  onPrevious,
  onNext,
}: {
  label: string;
  page: number;
  busy: boolean;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
}) {
  return (
    <nav className="pager" aria-label={label}>
      <button
        type="button"
        className="button-quiet"
        disabled={page === 1 || busy}
        onClick={onPrevious}
      >
        Previous page
      </button>
      <span className="hint">Page {page}</span>
      <button type="button" className="button-quiet" disabled={!hasNext || busy} onClick={onNext}>
        Next page
      </button>
    </nav>
  );
}
