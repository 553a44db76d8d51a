import { notFound } from "next/navigation";
import { AREAS } from "../areas";

export default async function NotBuiltArea({ params }: { params: Promise<{ area: string }> }) {
  const { area } = await params;
  const a = AREAS.find((x) => x.slug === area);
  if (!a) notFound();
  return (
    <>
      <h1>{a.label}</h1>
      <p className="alert info" role="status">
        <strong>Not built yet.</strong> This area will hold {a.what}. It arrives with the “{a.issue}” work; nothing here is simulated in the meantime.
      </p>
    </>
  );
}
