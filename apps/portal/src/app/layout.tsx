import type { Metadata, Viewport } from 'next';
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

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
