'use client';
import { useEffect } from 'react';

/** Last line of defence: a render error shows this instead of a blank page. */
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  return (
    <div className="page">
      <div className="banner error" role="alert" style={{ marginTop: 40 }}>
        <strong>Something went wrong on this page.</strong> {error.message}
      </div>
      <button type="button" onClick={reset}>
        Try again
      </button>
    </div>
  );
}
