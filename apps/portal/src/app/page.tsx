import { serverApi } from "~/trpc/server";

export const dynamic = "force-dynamic";

export default async function HomePage() {
  const { session } = await serverApi();
  return <main>{session ? `Signed in as ${session.fullName}` : "Not signed in"}</main>;
}
