namespace Flash.Drivers.Simulation;

public sealed partial class FlashSimulator
{
    private long _cutAtMutation = -1;
    private readonly HashSet<int> _failPrograms = [];
    private readonly HashSet<int> _failErases = [];

    /// <summary>Schedules a power cut at the <paramref name="mutations"/>-th program or erase from now (1 = the next one), which is interrupted.</summary>
    /// <param name="mutations">How many mutations ahead; at least 1.</param>
    public void CutPowerAfter(long mutations)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mutations, 1);
        _cutAtMutation = MutationCount + mutations;
    }

    /// <summary>Schedules a power cut at the mutation with this lifetime index (see <see cref="MutationCount"/>; the first mutation is 1).</summary>
    /// <param name="mutationIndex">Lifetime index of the mutation to interrupt.</param>
    public void CutPowerAtMutation(long mutationIndex)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(mutationIndex, MutationCount);
        _cutAtMutation = mutationIndex;
    }

    /// <summary>Cancels a scheduled power cut.</summary>
    public void CancelPowerCut() => _cutAtMutation = -1;

    /// <summary>Cuts power now, between operations.</summary>
    public void CutPower() => PowerOff();

    /// <summary>Restores power. The contents stay exactly as they were at the cut.</summary>
    public void PowerUp() => IsPowered = true;

    /// <summary>Makes the next program of <paramref name="page"/> fail as on a grown bad block.</summary>
    /// <param name="page">Page number.</param>
    public void ScheduleProgramFailure(int page)
    {
        CheckPage(page);
        _failPrograms.Add(page);
    }

    /// <summary>Makes the next erase of <paramref name="block"/> fail as on a grown bad block.</summary>
    /// <param name="block">Block number.</param>
    public void ScheduleEraseFailure(int block)
    {
        CheckBlock(block);
        _failErases.Add(block);
    }

    /// <summary>Flips <paramref name="count"/> random bits of a page's data area persistently (until its block is erased), as retention errors do.</summary>
    /// <param name="page">Page number.</param>
    /// <param name="count">Bits to flip.</param>
    /// <param name="sector">ECC sector to put them in, or -1 for anywhere in the data area.</param>
    public void InjectBitFlips(int page, int count, int sector = -1)
    {
        CheckPage(page);
        int sectorBits = Options.EccSectorSize * 8;
        for (int i = 0; i < count; i++)
        {
            int bit = sector < 0 ? _random.Next(_g.PageSize * 8) : (sector * sectorBits) + _random.Next(sectorBits);
            InjectBitFlipAt(page, bit);
        }
    }

    /// <summary>Flips one given bit of a page persistently; bit indices run over the data area then the spare area.</summary>
    /// <param name="page">Page number.</param>
    /// <param name="bit">Bit index within data+spare.</param>
    public void InjectBitFlipAt(int page, int bit)
    {
        CheckPage(page);
        ArgumentOutOfRangeException.ThrowIfNegative(bit);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(bit, _pageStride * 8);
        if (!_stuckBits.TryGetValue(page, out var bits))
        {
            _stuckBits[page] = bits = [];
        }

        if (!bits.Contains(bit))
        {
            bits.Add(bit);
        }
    }

    private bool CutDue()
    {
        if (_cutAtMutation >= 0 && MutationCount >= _cutAtMutation)
        {
            _cutAtMutation = -1;
            return true;
        }

        return false;
    }

    private void PowerOff() => IsPowered = false;

    private void ThrowIfOff(string operation)
    {
        if (!IsPowered)
        {
            throw new PowerLossException($"The device has no power ({operation} refused).");
        }
    }

    private bool WornOut(int block) => Options.EnduranceCycles > 0 && _wear[block] > Options.EnduranceCycles;

    private bool ProgramFails(int page, int block)
        => _failPrograms.Remove(page) || WornOut(block) || _random.Chance(Options.ProgramFailureRate);

    private bool EraseFails(int block)
        => _failErases.Remove(block) || WornOut(block) || _random.Chance(Options.EraseFailureRate);

    private void ReadDisturb(int block)
    {
        long threshold = Options.ReadDisturbThreshold;
        if (threshold > 0 && ++_readsSinceErase[block] > threshold)
        {
            // Reading a block often weakens the cells of its other pages: one more persistent flip.
            int page = (block * _g.PagesPerBlock) + _random.Next(_g.PagesPerBlock);
            InjectBitFlipAt(page, _random.Next(_g.PageSize * 8));
        }
    }

    /// <summary>
    /// Applies persistent and transient bit errors to what was read and runs the ECC model: per sector, up to
    /// <see cref="FlashSimulatorOptions.EccStrength"/> errors are corrected (the data stays right), more make the
    /// read uncorrectable and the errors are returned as they are. Spare-area bits count towards the last sector.
    /// </summary>
    private ReadResult ApplyBitErrors(int page, Span<byte> data, Span<byte> spare)
    {
        _stuckBits.TryGetValue(page, out var stuck);
        int transient = Options.BitErrorRate > 0 ? _random.Binomial(_pageStride * 8, Options.BitErrorRate) : 0;
        if ((stuck is null || stuck.Count == 0) && transient == 0)
        {
            return ReadResult.Clean;
        }

        int sectors = _g.PageSize / Options.EccSectorSize;
        int sectorBits = Options.EccSectorSize * 8;
        Span<int> perSector = stackalloc int[Math.Min(sectors, 128)];
        Span<int> transientBits = stackalloc int[Math.Min(transient, 256)];
        for (int i = 0; i < transientBits.Length; i++)
        {
            transientBits[i] = _random.Next(_pageStride * 8);
        }

        int dataBits = _g.PageSize * 8;
        int total = 0;
        void Count(int bit, Span<int> counts, Span<byte> d, Span<byte> s)
        {
            bool inData = bit < dataBits;
            if ((inData && d.IsEmpty) || (!inData && s.IsEmpty))
            {
                return;
            }

            counts[inData ? Math.Min(bit / sectorBits, counts.Length - 1) : counts.Length - 1]++;
            total++;
        }

        if (stuck is not null)
        {
            foreach (int bit in stuck)
            {
                Count(bit, perSector, data, spare);
            }
        }

        foreach (int bit in transientBits)
        {
            Count(bit, perSector, data, spare);
        }

        if (total == 0)
        {
            return ReadResult.Clean;
        }

        int worst = 0;
        foreach (int c in perSector)
        {
            worst = Math.Max(worst, c);
        }

        int t = Options.EccStrength;
        if (t > 0 && worst <= t)
        {
            return new ReadResult(EccStatus.Corrected, total, worst);
        }

        // Raw part (no ECC) or too many errors: the caller sees the flipped bits.
        if (stuck is not null)
        {
            foreach (int bit in stuck)
            {
                Flip(bit, data, spare, dataBits);
            }
        }

        foreach (int bit in transientBits)
        {
            Flip(bit, data, spare, dataBits);
        }

        return t > 0 ? ReadResult.Uncorrectable : ReadResult.Clean;
    }

    private static void Flip(int bit, Span<byte> data, Span<byte> spare, int dataBits)
    {
        if (bit < dataBits)
        {
            if (!data.IsEmpty)
            {
                data[bit >> 3] ^= (byte)(1 << (bit & 7));
            }
        }
        else if (!spare.IsEmpty)
        {
            int s = bit - dataBits;
            spare[s >> 3] ^= (byte)(1 << (s & 7));
        }
    }
}
