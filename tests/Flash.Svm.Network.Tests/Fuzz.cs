namespace Flash.Svm.Network.Tests;

/// <summary>Deterministic packet mutations for the protocol fuzz tests: bit flips, truncation, extension, byte splices.</summary>
internal static class Fuzz
{
    /// <summary>Mutated packets by default; FLASH_FUZZ=N runs N.</summary>
    public static int Count => int.TryParse(Environment.GetEnvironmentVariable("FLASH_FUZZ"), out int n) && n > 0 ? n : 10_000;

    public static byte[] Mutate(Random rng, byte[] seed)
    {
        var p = seed.ToList();
        int edits = 1 + rng.Next(4);
        for (int e = 0; e < edits; e++)
        {
            switch (rng.Next(6))
            {
                case 0 when p.Count > 0:
                    p[rng.Next(p.Count)] ^= (byte)(1 << rng.Next(8));
                    break;
                case 1 when p.Count > 0:
                    int at = rng.Next(p.Count);
                    p.RemoveRange(at, Math.Min(p.Count - at, 1 + rng.Next(8)));
                    break;
                case 2:
                    p.InsertRange(rng.Next(p.Count + 1), Enumerable.Range(0, 1 + rng.Next(16)).Select(_ => (byte)rng.Next(256)));
                    break;
                case 3 when p.Count > 0:
                    p[rng.Next(p.Count)] = (byte)(rng.Next(3) switch { 0 => 0, 1 => 0xff, _ => rng.Next(256) });
                    break;
                case 4 when p.Count > 2:
                    int cut = rng.Next(p.Count);
                    p.RemoveRange(cut, p.Count - cut);
                    break;
                default:
                    if (p.Count > 0)
                    {
                        p[rng.Next(p.Count)] = (byte)rng.Next(256);
                    }

                    break;
            }
        }

        return p.Count > 1400 ? p.Take(1400).ToArray() : p.ToArray();
    }
}
