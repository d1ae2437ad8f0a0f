using System.Numerics;

namespace Flash.Drivers.Ecc;

/// <summary>
/// The 1-bit-correcting, 2-bit-detecting Hamming code of Linux's software NAND ECC: 3 ECC bytes per 256 or 512 data
/// bytes, laid out bit for bit as the kernel lays them out (line parities of the high address bits in byte 0, of the
/// low address bits in byte 1, column parities in byte 2, all inverted so an erased step's ECC is FF FF FF), so pages
/// written with this code read correctly through the kernel's ECC and the other way round.
/// </summary>
public sealed class HammingEcc : IEccCode
{
    private readonly int _addressBits;

    /// <summary>Creates the code.</summary>
    /// <param name="stepSize">256 or 512 data bytes per step.</param>
    /// <exception cref="ArgumentOutOfRangeException">The step size is neither 256 nor 512.</exception>
    public HammingEcc(int stepSize = 256)
    {
        if (stepSize is not (256 or 512))
        {
            throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, "Hamming ECC covers 256 or 512 bytes per step.");
        }

        StepSize = stepSize;
        _addressBits = stepSize == 256 ? 8 : 9;
    }

    /// <inheritdoc />
    public string Name => $"hamming-{StepSize}";

    /// <inheritdoc />
    public int StepSize { get; }

    /// <inheritdoc />
    public int EccBytes => 3;

    /// <inheritdoc />
    public int Strength => 1;

    /// <inheritdoc />
    public void Calculate(ReadOnlySpan<byte> data, Span<byte> ecc)
    {
        if (data.Length != StepSize || ecc.Length < 3)
        {
            throw new ArgumentException($"Hamming ECC needs {StepSize} data bytes and 3 ECC bytes.", nameof(data));
        }

        // Column parity: the XOR of every byte. Line parity: the XOR of the indices of the bytes whose bits have odd
        // parity gives, bit by bit, the parity of the bytes whose index has that address bit set ("odd" line parities);
        // the "even" line parity of an address bit is the total parity minus the odd one.
        int column = 0, lines = 0;
        for (int i = 0; i < data.Length; i++)
        {
            int b = data[i];
            column ^= b;
            lines ^= i & -(BitOperations.PopCount((uint)b) & 1);
        }

        int total = BitOperations.PopCount((uint)column) & 1;
        int low = 0, high = 0;
        for (int k = 0; k < 4; k++)
        {
            int odd = (lines >> k) & 1;
            low |= (odd << ((2 * k) + 1)) | ((odd ^ total) << (2 * k));
            int oddHigh = (lines >> (k + 4)) & 1;
            high |= (oddHigh << ((2 * k) + 1)) | ((oddHigh ^ total) << (2 * k));
        }

        int columns = (Parity(column & 0xF0) << 7) | (Parity(column & 0x0F) << 6) | (Parity(column & 0xCC) << 5)
            | (Parity(column & 0x33) << 4) | (Parity(column & 0xAA) << 3) | (Parity(column & 0x55) << 2);
        if (_addressBits == 9)
        {
            int odd8 = (lines >> 8) & 1;
            columns |= (odd8 << 1) | (odd8 ^ total);
        }

        ecc[0] = (byte)~high;
        ecc[1] = (byte)~low;
        ecc[2] = _addressBits == 9 ? (byte)~columns : (byte)(~columns | 3);
    }

    /// <inheritdoc />
    public int Correct(Span<byte> data, ReadOnlySpan<byte> storedEcc)
    {
        Span<byte> calc = stackalloc byte[3];
        Calculate(data, calc);
        int highDiff = storedEcc[0] ^ calc[0];
        int lowDiff = storedEcc[1] ^ calc[1];
        int colDiff = storedEcc[2] ^ calc[2];
        if ((highDiff | lowDiff | colDiff) == 0)
        {
            return 0;
        }

        // One flipped data bit flips exactly one parity of every (even, odd) pair.
        int colMask = _addressBits == 9 ? 0x55 : 0x54;
        if (((highDiff ^ (highDiff >> 1)) & 0x55) == 0x55 && ((lowDiff ^ (lowDiff >> 1)) & 0x55) == 0x55
            && ((colDiff ^ (colDiff >> 1)) & colMask) == colMask)
        {
            int byteAddress = (OddBits(highDiff) << 4) | OddBits(lowDiff);
            if (_addressBits == 9)
            {
                byteAddress |= ((colDiff >> 1) & 1) << 8;
            }

            int bitAddress = OddBits(colDiff >> 2) & 7;
            data[byteAddress] ^= (byte)(1 << bitAddress);
            return 1;
        }

        // One flipped ECC bit: the data is right.
        return BitOperations.PopCount((uint)(highDiff | (lowDiff << 8) | (colDiff << 16))) == 1 ? 1 : -1;
    }

    private static int Parity(int value) => BitOperations.PopCount((uint)value) & 1;

    // Bits 1, 3, 5, 7 of a parity-difference byte (the "odd" parities) are the address bits 0..3.
    private static int OddBits(int value) => ((value >> 1) & 1) | ((value >> 2) & 2) | ((value >> 3) & 4) | ((value >> 4) & 8);
}
