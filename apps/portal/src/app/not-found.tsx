import Link from 'next/link';

export default function NotFound() {
  return (
    <div className="page">
      <title>Not found · HIE</title>
      <div className="empty" style={{ marginTop: 60 }}>
        <strong>This page does not exist</strong>
        The link may be out of date, or the item was deleted.
        <div className="row">
          <Link className="btn primary" href="/">
            Go to workspaces
          </Link>
        </div>
      </div>
    </div>
  );
}
