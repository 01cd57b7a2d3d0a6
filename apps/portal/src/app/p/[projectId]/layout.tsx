'use client';
import { useParams } from 'next/navigation';
import type { ReactNode } from 'react';
import { ProjectLayout } from '../../../components/project-context';

export default function Layout({ children }: { children: ReactNode }) {
  const { projectId } = useParams<{ projectId: string }>();
  return <ProjectLayout projectId={projectId}>{children}</ProjectLayout>;
}
