using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Flash.Drivers.Ecc;

/// <summary>
/// A binary BCH code over GF(2^13) correcting up to <see cref="Strength"/> bit errors per step, extended with one
/// overall parity bit so that one error more than the strength is always reported, never miscorrected.
/// </summary>
/// <remarks>
/// <para>Encoding is a table-driven LFSR (one table lookup per data byte); decoding computes syndromes from the
/// difference of stored and recomputed ECC, finds the error locator with Berlekamp-Massey and its roots with a
/// Chien search. ECC bits are stored most significant first, then the parity bit; the whole code word is offset by
/// the ECC of an erased step so that an erased step (data and ECC all 0xFF) is a valid code word.</para>
/// <para>ECC bytes per step: ceil((13 t + 1) / 8), for example 7 for t = 4 and 14 for t = 8.</para>
/// </remarks>
public sealed class BchEcc : IEccCode
{
    private const int M = 13;
    private const int N = (1 << M) - 1;
    private const int PrimitivePolynomial = 0x201B; // x^13 + x^4 + x^3 + x + 1

    private static readonly ushort[] Exp = BuildExp();
    private static readonly ushort[] Log = BuildLog();

    private readonly int _eccBits;
    private readonly int _words;
    private readonly ulong[] _table;
    private readonly byte[] _erasedMask;
    private readonly int _lastByteMask;

    /// <summary>Creates the code.</summary>
    /// <param name="strength">Bit errors corrected per step, 1 to 32.</param>
    /// <param name="stepSize">Data bytes per step, a multiple of 8 from 8 to 1,000 (512 by default).</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public BchEcc(int strength, int stepSize = 512)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(strength, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(strength, 32);
        if (stepSize < 8 || stepSize > 1000 || stepSize % 8 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, "The step size must be a multiple of 8 from 8 to 1,000 bytes.");
        }

        Strength = strength;
        StepSize = stepSize;
        byte[] generator = Generator(strength);
        _eccBits = generator.Length - 1;
        if ((stepSize * 8) + _eccBits > N)
        {
            throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, "Step and ECC together exceed the 8,191-bit code length of GF(2^13).");
        }

        EccBytes = (_eccBits + 1 + 7) / 8;
        _words = (_eccBits + 63) / 64;
        _table = BuildTable(generator, _eccBits, _words);
        int usedInLast = _eccBits + 1 - (8 * (EccBytes - 1));
        _lastByteMask = (0xFF << (8 - usedInLast)) & 0xFF;

        // Offset every code word by the code word of an erased step, so that all-0xFF data has all-0xFF ECC.
        _erasedMask = new byte[EccBytes];
        Span<byte> erased = stackalloc byte[stepSize];
        erased.Fill(0xFF);
        EncodeRaw(erased, _erasedMask);
        for (int i = 0; i < _erasedMask.Length; i++)
        {
            _erasedMask[i] ^= 0xFF;
        }
    }

    /// <inheritdoc />
    public string Name => $"bch-{StepSize}-t{Strength}";

    /// <inheritdoc />
    public int StepSize { get; }

    /// <inheritdoc />
    public int EccBytes { get; }

    /// <inheritdoc />
    public int Strength { get; }

    /// <summary>Bits of the BCH remainder (13 per corrected bit), without the parity bit.</summary>
    public int EccBits => _eccBits;

    /// <inheritdoc />
    public void Calculate(ReadOnlySpan<byte> data, Span<byte> ecc)
    {
        CheckLengths(data.Length, ecc.Length);
        EncodeRaw(data, ecc);
        for (int i = 0; i < EccBytes; i++)
        {
            ecc[i] ^= _erasedMask[i];
        }
    }

    /// <inheritdoc />
    public int Correct(Span<byte> data, ReadOnlySpan<byte> storedEcc)
    {
        CheckLengths(data.Length, storedEcc.Length);
        int t = Strength;
        Span<byte> calc = stackalloc byte[EccBytes];
        Span<byte> received = stackalloc byte[EccBytes];
        EncodeRaw(data, calc);
        bool differs = false;
        for (int i = 0; i < EccBytes; i++)
        {
            received[i] = (byte)(storedEcc[i] ^ _erasedMask[i]);
            int used = i == EccBytes - 1 ? _lastByteMask : 0xFF;
            differs |= ((received[i] ^ calc[i]) & used) != 0;
        }

        if (!differs)
        {
            return 0;
        }

        // The remainder of the error polynomial: recomputed ECC minus received ECC (the parity bit aside).
        int parityIndex = _eccBits;
        int receivedParity = (received[parityIndex >> 3] >> (7 - (parityIndex & 7))) & 1;
        int dataParity = DataParity(data);
        int receivedEccParity = 0;
        bool remainderZero = true;
        Span<int> syndromes = stackalloc int[(2 * t) + 1];
        syndromes.Clear();
        for (int j = 0; j < _eccBits; j++)
        {
            int shift = 7 - (j & 7);
            int recvBit = (received[j >> 3] >> shift) & 1;
            receivedEccParity ^= recvBit;
            if ((((calc[j >> 3] >> shift) & 1) ^ recvBit) == 0)
            {
                continue;
            }

            remainderZero = false;
            int degree = _eccBits - 1 - j;
            for (int i = 1; i <= 2 * t; i += 2)
            {
                syndromes[i] ^= Exp[(int)((long)i * degree % N)];
            }
        }

        // Odd number of errors over data, ECC and parity bit?
        int oddErrors = receivedParity ^ dataParity ^ receivedEccParity;
        if (remainderZero)
        {
            // Only the parity bit differs.
            return oddErrors == 1 ? 1 : -1;
        }

        for (int i = 2; i <= 2 * t; i += 2)
        {
            int half = syndromes[i / 2];
            syndromes[i] = half == 0 ? 0 : Exp[2 * Log[half] % N];
        }

        Span<int> locator = stackalloc int[(4 * t) + 2];
        int degreeOfLocator = BerlekampMassey(syndromes, locator, t);
        if (degreeOfLocator < 0 || degreeOfLocator > t)
        {
            return -1;
        }

        Span<int> positions = stackalloc int[t];
        int found = Chien(locator, degreeOfLocator, (StepSize * 8) + _eccBits, positions);
        if (found != degreeOfLocator)
        {
            return -1;
        }

        int parityFlip = (found & 1) != oddErrors ? 1 : 0;
        if (found + parityFlip > t)
        {
            return -1;
        }

        int dataBits = StepSize * 8;
        foreach (int position in positions[..found])
        {
            if (position >= _eccBits)
            {
                int index = dataBits - 1 - (position - _eccBits);
                data[index >> 3] ^= (byte)(0x80 >> (index & 7));
            }
        }

        return found + parityFlip;
    }

    private void CheckLengths(int data, int ecc)
    {
        if (data != StepSize || ecc < EccBytes)
        {
            throw new ArgumentException($"BCH ECC needs {StepSize} data bytes and {EccBytes} ECC bytes.", nameof(data));
        }
    }

    /// <summary>The remainder of data(x)·x^L modulo g(x), most significant bit first, then the overall parity bit.</summary>
    private void EncodeRaw(ReadOnlySpan<byte> data, Span<byte> ecc)
    {
        Span<ulong> r = stackalloc ulong[_words];
        r.Clear();
        int w = _words;
        var table = _table;
        foreach (byte b in data)
        {
            int row = ((int)(r[0] >> 56) ^ b) * w;
            for (int i = 0; i < w - 1; i++)
            {
                r[i] = ((r[i] << 8) | (r[i + 1] >> 56)) ^ table[row + i];
            }

            r[w - 1] = (r[w - 1] << 8) ^ table[row + w - 1];
        }

        ecc[..EccBytes].Clear();
        int eccParity = 0;
        Span<byte> word = stackalloc byte[8];
        int bytesWithBits = (_eccBits + 7) / 8;
        for (int i = 0; i < w; i++)
        {
            eccParity ^= BitOperations.PopCount(r[i]);
            BinaryPrimitives.WriteUInt64BigEndian(word, r[i]);
            int start = i * 8;
            int count = Math.Min(8, bytesWithBits - start);
            word[..count].CopyTo(ecc[start..]);
        }

        int parity = (eccParity ^ DataParity(data)) & 1;
        ecc[_eccBits >> 3] |= (byte)(parity << (7 - (_eccBits & 7)));
    }

    private static int DataParity(ReadOnlySpan<byte> data)
    {
        ulong fold = 0;
        foreach (ulong v in MemoryMarshal.Cast<byte, ulong>(data))
        {
            fold ^= v;
        }

        return BitOperations.PopCount(fold) & 1;
    }

    private static int Mul(int a, int b) => a == 0 || b == 0 ? 0 : Exp[Log[a] + Log[b]];

    private static int BerlekampMassey(ReadOnlySpan<int> s, Span<int> c, int t)
    {
        Span<int> b = stackalloc int[c.Length];
        Span<int> previous = stackalloc int[c.Length];
        c.Clear();
        b.Clear();
        c[0] = 1;
        b[0] = 1;
        int length = 0, shift = 1, lastDiscrepancy = 1;
        for (int n = 0; n < 2 * t; n++)
        {
            int d = s[n + 1];
            for (int i = 1; i <= length; i++)
            {
                d ^= Mul(c[i], s[n + 1 - i]);
            }

            if (d == 0)
            {
                shift++;
                continue;
            }

            int coefficient = Exp[(Log[d] + N - Log[lastDiscrepancy]) % N];
            bool grow = 2 * length <= n;
            if (grow)
            {
                c.CopyTo(previous);
            }

            for (int i = 0; i + shift < c.Length; i++)
            {
                if (b[i] != 0)
                {
                    c[i + shift] ^= Mul(coefficient, b[i]);
                }
            }

            if (grow)
            {
                length = n + 1 - length;
                previous.CopyTo(b);
                lastDiscrepancy = d;
                shift = 1;
            }
            else
            {
                shift++;
            }
        }

        for (int i = length + 1; i < c.Length; i++)
        {
            if (c[i] != 0)
            {
                return -1;
            }
        }

        return c[length] == 0 ? -1 : length;
    }

    /// <summary>Finds the bit positions p (0 ≤ p &lt; <paramref name="codeBits"/>) with σ(α^-p) = 0.</summary>
    private static int Chien(ReadOnlySpan<int> locator, int degree, int codeBits, Span<int> positions)
    {
        Span<int> logs = stackalloc int[degree + 1];
        for (int j = 1; j <= degree; j++)
        {
            logs[j] = locator[j] == 0 ? -1 : Log[locator[j]];
        }

        int found = 0;
        for (int p = 0; p < codeBits; p++)
        {
            int sum = 1;
            for (int j = 1; j <= degree; j++)
            {
                if (logs[j] >= 0)
                {
                    sum ^= Exp[logs[j]];
                    logs[j] -= j;
                    if (logs[j] < 0)
                    {
                        logs[j] += N;
                    }
                }
            }

            if (sum == 0)
            {
                if (found == positions.Length)
                {
                    return -1;
                }

                positions[found++] = p;
                if (found == degree)
                {
                    break;
                }
            }
        }

        return found;
    }

    private static ushort[] BuildExp()
    {
        var exp = new ushort[2 * N];
        int x = 1;
        for (int i = 0; i < N; i++)
        {
            exp[i] = (ushort)x;
            x <<= 1;
            if ((x & (1 << M)) != 0)
            {
                x ^= PrimitivePolynomial;
            }
        }

        for (int i = N; i < exp.Length; i++)
        {
            exp[i] = exp[i - N];
        }

        return exp;
    }

    private static ushort[] BuildLog()
    {
        var log = new ushort[N + 1];
        for (int i = 0; i < N; i++)
        {
            log[Exp[i]] = (ushort)i;
        }

        return log;
    }

    /// <summary>g(x): the product of the minimal polynomials of α, α^3, …, α^(2t-1); coefficient of x^i at index i.</summary>
    private static byte[] Generator(int t)
    {
        var used = new bool[N];
        byte[] g = [1];
        for (int i = 1; i < 2 * t; i += 2)
        {
            if (used[i])
            {
                continue;
            }

            // Minimal polynomial of α^i: the product of (x + α^c) over the cyclotomic coset of i.
            int[] minimal = [1];
            int c = i;
            do
            {
                used[c] = true;
                var next = new int[minimal.Length + 1];
                for (int k = 0; k < minimal.Length; k++)
                {
                    next[k + 1] ^= minimal[k];
                    next[k] ^= Mul(minimal[k], Exp[c]);
                }

                minimal = next;
                c = (c * 2) % N;
            }
            while (c != i);

            var product = new byte[g.Length + minimal.Length - 1];
            for (int a = 0; a < g.Length; a++)
            {
                if (g[a] == 0)
                {
                    continue;
                }

                for (int b = 0; b < minimal.Length; b++)
                {
                    product[a + b] ^= (byte)minimal[b];
                }
            }

            g = product;
        }

        return g;
    }

    /// <summary>For every byte value v, v(x)·x^L mod g(x), left-aligned in <paramref name="words"/> 64-bit words.</summary>
    private static ulong[] BuildTable(byte[] g, int l, int words)
    {
        var table = new ulong[256 * words];
        var reg = new byte[l];
        for (int v = 0; v < 256; v++)
        {
            Array.Clear(reg);
            for (int bit = 7; bit >= 0; bit--)
            {
                int feedback = ((v >> bit) & 1) ^ reg[l - 1];
                for (int d = l - 1; d > 0; d--)
                {
                    reg[d] = reg[d - 1];
                }

                reg[0] = 0;
                if (feedback != 0)
                {
                    for (int d = 0; d < l; d++)
                    {
                        reg[d] ^= g[d];
                    }
                }
            }

            for (int d = 0; d < l; d++)
            {
                if (reg[d] != 0)
                {
                    int position = l - 1 - d;
                    table[(v * words) + (position >> 6)] |= 1UL << (63 - (position & 63));
                }
            }
        }

        return table;
    }
}
