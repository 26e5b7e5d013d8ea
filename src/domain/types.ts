// Shared domain vocabulary. Keep this file small: other modules own their own result types.

export type DifficultyBand = 'EASY' | 'MEDIUM' | 'HARD';

/** Canonical order, easiest first; analytics that list bands use this order. */
export const difficultyBands: readonly DifficultyBand[] = ['EASY', 'MEDIUM', 'HARD'];
