'use client';
import { useParams } from 'next/navigation';
import { Designer } from '../../../designer/designer';

export default function DesignerPage() {
  const { projectId } = useParams<{ projectId: string }>();
  return <Designer projectId={projectId} />;
}
