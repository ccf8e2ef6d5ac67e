export async function runConnectionCommand(_args: string[]): Promise<number> {
  return 2;
}
