"use client";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { commentAction } from "@/app/(app)/exceptions/actions";
import type { ExceptionDetail } from "@/server/exceptions/detail";

const describe = (e: ExceptionDetail["events"][number]) => {
  const d = e.data as Record<string, { from?: string; to?: string } | string | null>;
  const parts: string[] = [];
  if (typeof d.status === "object" && d.status) parts.push(`${d.status.from} → ${d.status.to}`);
  if (typeof d.severity === "object" && d.severity) parts.push(`severity ${d.severity.from ?? ""} → ${d.severity.to}`);
  if (typeof d.resolution === "string") parts.push(d.resolution.replace("_", " "));
  if (typeof d.reasonCode === "string") parts.push(d.reasonCode.replace("_", " "));
  if (typeof d.snoozedUntil === "string") parts.push(`until ${d.snoozedUntil.slice(0, 10)}`);
  if (typeof d.assignee === "object" && d.assignee) parts.push("assignee changed");
  return parts.join("; ");
};

/** Comments (people) and history (every change, written by the database whoever made it). */
export function ExceptionThread({ exceptionId, comments, events, canComment }: { exceptionId: string; comments: ExceptionDetail["comments"]; events: ExceptionDetail["events"]; canComment: boolean }) {
  const router = useRouter();
  const [body, setBody] = useState("");
  const add = useMutation({ mutationFn: () => commentAction({ exceptionId, body }), onSuccess: (r) => { if (r.ok) { setBody(""); router.refresh(); } } });
  return (
    <div className="side-by-side">
      <section aria-label="Comments" className="panel">
        <h2>Comments</h2>
        {comments.length === 0 && <p className="muted">No comments yet.</p>}
        <ul className="plain">
          {comments.map((c) => <li key={c.id}><strong>{c.author}</strong> <span className="muted">{c.at.slice(0, 16).replace("T", " ")}</span><p>{c.body}</p></li>)}
        </ul>
        {canComment && (
          <form onSubmit={(e) => { e.preventDefault(); add.mutate(); }}>
            <label>Add a comment <textarea value={body} onChange={(e) => setBody(e.target.value)} rows={3} required /></label>
            <button type="submit" disabled={add.isPending}>Comment</button>
            {add.data && !add.data.ok && <p role="alert" className="alert error">{add.data.message}</p>}
          </form>
        )}
      </section>
      <section aria-label="History" className="panel">
        <h2>History</h2>
        <ol className="plain">
          {events.map((e) => <li key={e.id}><span className="muted">{e.at.slice(0, 16).replace("T", " ")}</span> <strong>{e.action.replace("_", " ")}</strong> by {e.actor} {describe(e) && <span className="muted">— {describe(e)}</span>}</li>)}
        </ol>
      </section>
    </div>
  );
}
