using Flash.Ffs;
using Flash.Tests.PowerLoss;

namespace Flash.Tests.Ffs.Format;

/// <summary>
/// The mutation check every body codec shares: bodies with one to three bytes flipped (CRC left matching, so the
/// decoder's own checks are what is tested) are refused as corrupt or decode to a value that encodes and decodes to
/// the same value.
/// </summary>
internal static class MutationFuzz
{
    /// <summary>Runs the check over <see cref="PowerLossProfile.FuzzImages"/> mutations (at least 2,000).</summary>
    /// <typeparam name="T">The decoded value.</typeparam>
    /// <param name="original">A valid body.</param>
    /// <param name="seed">The mutations' seed.</param>
    /// <param name="decode">The decoder under test.</param>
    /// <param name="encode">Its encoder.</param>
    /// <param name="describe">A full description of a value, compared as text.</param>
    public static void RefusedOrRoundTrips<T>(byte[] original, int seed, Func<byte[], T> decode, Func<T, byte[]> encode, Func<T, string> describe)
    {
        var random = new Random(seed);
        int accepted = 0;
        for (int i = 0; i < Math.Max(2000, PowerLossProfile.FuzzImages); i++)
        {
            var body = (byte[])original.Clone();
            for (int n = random.Next(1, 4); n > 0; n--)
            {
                body[random.Next(body.Length)] ^= (byte)random.Next(1, 256);
            }

            T value;
            try
            {
                value = decode(body);
            }
            catch (FileSystemCorruptException)
            {
                continue;
            }

            accepted++;
            Assert.Equal(describe(value), describe(decode(encode(value))));
        }

        Assert.True(accepted > 0, "no mutation was accepted: the round-trip half of the test checked nothing");
    }
}
