import type { Metadata, Viewport } from 'next';
import { connection } from 'next/server';
import type { ReactNode } from 'react';
import '@xyflow/react/dist/style.css';
import './global.css';
import { Providers } from './providers';

export const metadata: Metadata = {
  title: { default: 'HIE', template: '%s · HIE' },
  description: 'HIE — healthcare integration engine: design, deploy and watch message flows',
  icons: { icon: '/favicon.svg' },
};

export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Render every page per request: the CSP nonce (src/proxy.ts) is new each time, and a page
  // prerendered at build time would carry scripts without it.
  await connection();
  return (
    <html lang="en">
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
