namespace Flash.Drivers.Ecc;

/// <summary>
/// An error-correcting code over fixed-size steps (sectors) of a page's data, as the software ECC layer
/// <see cref="EccDevice"/> uses it. Implementations allocate nothing per call.
/// </summary>
public interface IEccCode
{
    /// <summary>A short name for logs, for example "hamming-256" or "bch-512-t8".</summary>
    string Name { get; }

    /// <summary>Data bytes covered by one code word (one ECC step).</summary>
    int StepSize { get; }

    /// <summary>ECC bytes stored per step.</summary>
    int EccBytes { get; }

    /// <summary>Bit errors per step the code corrects.</summary>
    int Strength { get; }

    /// <summary>Computes the ECC bytes of one step. The ECC of an erased step (all 0xFF) is all 0xFF.</summary>
    /// <param name="data">Exactly <see cref="StepSize"/> data bytes.</param>
    /// <param name="ecc">Receives exactly <see cref="EccBytes"/> bytes.</param>
    void Calculate(ReadOnlySpan<byte> data, Span<byte> ecc);

    /// <summary>Checks one step against its stored ECC and corrects the data in place.</summary>
    /// <param name="data">Exactly <see cref="StepSize"/> data bytes as read; corrected in place.</param>
    /// <param name="storedEcc">Exactly <see cref="EccBytes"/> ECC bytes as read.</param>
    /// <returns>The number of bit errors corrected (in data or ECC), or -1 when the step is uncorrectable (the data is then left as read).</returns>
    int Correct(Span<byte> data, ReadOnlySpan<byte> storedEcc);
}
