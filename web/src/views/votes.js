// Dot-vote rules the whole client shares: totals stay hidden while people vote, unless the
// facilitator chose to show them (meta.hide_totals === false), so nobody follows the crowd.

/** Whether vote totals are hidden right now: during the vote phase, unless the facilitator shows them. */
export function totalsHidden (meta) {
  return (meta.phase || 'collect') === 'vote' && meta.hide_totals !== false
}
