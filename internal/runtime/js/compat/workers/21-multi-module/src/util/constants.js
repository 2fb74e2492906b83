export const TAX = 0.21;
