/** Approve / reject with a comment (approvers and admins only; the server checks it anyway). */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { send } from '../api';
import { Failure } from '../ui';

export function DecideButtons({ deployment }: { deployment: string }) {
  const client = useQueryClient();
  const [comment, setComment] = useState('');
  const decide = useMutation({
    mutationFn: (decision: 'approve' | 'reject') =>
      send('POST', `/v1/deployments/${encodeURIComponent(deployment)}/approvals`, { decision, comment }),
    onSuccess: () => client.invalidateQueries(),
  });
  return (
    <div className="decide">
      <label className="sr-only" htmlFor={`comment-${deployment}`}>
        Comment for {deployment}
      </label>
      <input
        id={`comment-${deployment}`}
        placeholder="comment"
        value={comment}
        onChange={(e) => setComment(e.target.value)}
      />
      <button type="button" disabled={decide.isPending} onClick={() => decide.mutate('approve')}>
        Approve
      </button>
      <button
        type="button"
        className="danger"
        disabled={decide.isPending}
        onClick={() => decide.mutate('reject')}
      >
        Reject
      </button>
      {decide.isSuccess && <span role="status">Recorded.</span>}
      {decide.error && <Failure error={decide.error} />}
    </div>
  );
}
