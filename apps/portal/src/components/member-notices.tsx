"use client";
// The member's unread notices on their home page, each with **Mark read**: once marked, the page
// is rendered again on the server and the notice is gone from the list.
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useTransition } from "react";
import { useHydrated } from "~/hooks/use-hydrated";
import { type RouterOutputs, useTRPC } from "~/trpc/react";
import { describeError } from "./error-text";

type Notice = RouterOutputs["notices"]["listNotices"]["items"][number];

export function MemberNotices({ notices }: { notices: Notice[] }) {
  const trpc = useTRPC();
  const router = useRouter();
  const [refreshing, startRefresh] = useTransition();
  const markRead = useMutation(
    trpc.notices.markNoticeRead.mutationOptions({
      onSuccess: () => startRefresh(() => router.refresh()),
    }),
  );
  const hydrated = useHydrated();
  const busy = markRead.isPending || refreshing;

  return (
    <>
      <ul className="notices" aria-busy={busy}>
        {notices.map((notice) => (
          <li key={notice.id} className="notice-item">
            <p>{notice.text}</p>
            <button
              type="button"
              className="button-quiet"
              disabled={!hydrated || busy}
              onClick={() => markRead.mutate({ id: notice.id })}
            >
              Mark read
            </button>
          </li>
        ))}
      </ul>
      {markRead.error ? (
        <p className="error" role="alert">
          {describeError(markRead.error)}
        </p>
      ) : null}
    </>
  );
}
