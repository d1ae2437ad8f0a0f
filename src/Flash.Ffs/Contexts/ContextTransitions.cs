namespace Flash.Ffs.Contexts;

/// <summary>
/// The context state machine as one pure function: the table an operation produces from a table, or the exception
/// that refuses it. No I/O, no state; <see cref="ContextStore"/> commits what it returns and the redundant pair
/// previews batches with it, so a device and its mirror decide alike.
/// </summary>
/// <remarks>
/// Invariants of every result: generation and sequence are those of the input (the committer sets them); the current
/// area is never written except for <c>config/</c> files; the alternate-boot flag is set only with a valid alternate
/// and is cleared by anything that makes the alternate unusable (write, clear, invalidate) or by a switch.
/// </remarks>
internal static class ContextTransitions
{
    /// <summary>The table <paramref name="op"/> produces from <paramref name="t"/> (generation and sequence unchanged).</summary>
    /// <param name="t">The table before the change.</param>
    /// <param name="op">The change.</param>
    /// <returns>The table after it.</returns>
    /// <exception cref="CurrentContextWriteException">A write, delete or clear of the current area (outside <c>config/</c>).</exception>
    /// <exception cref="ContextStateException">The areas' states forbid the operation.</exception>
    /// <exception cref="FlashInvalidPathException">A path is not a clean relative path.</exception>
    /// <exception cref="ArgumentException">The operation is malformed (missing files, retries out of range, configuration for the alternate).</exception>
    internal static ContextTable Next(ContextTable t, ContextOperation op)
    {
        switch (op.Kind)
        {
            case ContextOperationKind.Write:
            case ContextOperationKind.Delete:
                RefuseCurrent(t, op.Area);
                if (op.Kind == ContextOperationKind.Write)
                {
                    ArgumentNullException.ThrowIfNull(op.Files);
                    foreach (var (path, data) in op.Files)
                    {
                        _ = ContextPaths.Absolute(op.Area, path);
                        ArgumentNullException.ThrowIfNull(data);
                    }
                }
                else
                {
                    _ = ContextPaths.Absolute(op.Area, op.Path!);
                }

                return t.StateOf(op.Area) == ContextState.Writing
                    ? t
                    : t.WithState(op.Area, ContextState.Writing).WithLabel(op.Area, "") with { AlternateBoot = false, BootRetries = 0 };
            case ContextOperationKind.WriteConfiguration:
                ArgumentNullException.ThrowIfNull(op.Files);
                if (op.Area != t.Current)
                {
                    throw new ArgumentException($"Configuration writes go to the current area {t.Current}, not {op.Area}.", nameof(op));
                }

                foreach (var (path, data) in op.Files)
                {
                    _ = ContextPaths.Absolute(op.Area, path);
                    ArgumentNullException.ThrowIfNull(data);
                    if (!path.StartsWith(ContextLayout.ConfigurationDirectory + "/", StringComparison.Ordinal))
                    {
                        throw new CurrentContextWriteException(op.Area);
                    }
                }

                return t;
            case ContextOperationKind.Clear:
                RefuseCurrent(t, op.Area);
                return t.WithState(op.Area, ContextState.Invalid).WithLabel(op.Area, "") with { AlternateBoot = false, BootRetries = 0 };
            case ContextOperationKind.MarkComplete:
                if (t.AlternateState is not (ContextState.Writing or ContextState.Valid))
                {
                    throw new ContextStateException(t.Alternate, t.AlternateState, $"The alternate {t.Alternate} is {t.AlternateState}; only a written alternate can be marked complete.");
                }

                var done = t.WithState(t.Alternate, ContextState.Valid);
                return op.Label is null ? done : done.WithLabel(t.Alternate, op.Label);
            case ContextOperationKind.Switch:
                RequireValidAlternate(t, "switch to it");
                var old = t.Current;
                var oldState = t.CurrentState == ContextState.Trial ? ContextState.Invalid : t.CurrentState;
                return t.WithState(t.Alternate, op.Trial ? ContextState.Trial : ContextState.Valid).WithState(old, oldState)
                    with { Current = t.Alternate, AlternateBoot = false, BootRetries = 0 };
            case ContextOperationKind.SetAlternateBoot:
                ArgumentOutOfRangeException.ThrowIfLessThan(op.Retries, 1, nameof(op.Retries));
                ArgumentOutOfRangeException.ThrowIfGreaterThan(op.Retries, ushort.MaxValue, nameof(op.Retries));
                RequireValidAlternate(t, "boot it");
                return t with { AlternateBoot = true, BootRetries = op.Retries };
            case ContextOperationKind.ClearAlternateBoot:
                return t with { AlternateBoot = false, BootRetries = 0 };
            case ContextOperationKind.ConsumeBootRetry:
                int left = Math.Max(0, t.BootRetries - 1);
                return t with { BootRetries = left, AlternateBoot = t.AlternateBoot && left > 0 };
            case ContextOperationKind.ConfirmCurrent:
                if (t.CurrentState != ContextState.Trial)
                {
                    throw new ContextStateException(t.Current, t.CurrentState, $"The current {t.Current} is {t.CurrentState}, not on trial.");
                }

                return t.WithState(t.Current, ContextState.Valid);
            case ContextOperationKind.Invalidate:
                var inv = t.WithState(op.Area, ContextState.Invalid);
                return op.Area == t.Alternate ? inv with { AlternateBoot = false, BootRetries = 0 } : inv;
            default:
                throw new ArgumentOutOfRangeException(nameof(op), op.Kind, "Unknown context operation.");
        }
    }

    /// <summary>
    /// The table a batch produces, applying <see cref="Next"/> in order; a clear may not be batched (it stages a walk of
    /// the area that later operations of the same batch would invalidate).
    /// </summary>
    /// <param name="t">The table before the batch.</param>
    /// <param name="ops">The changes.</param>
    /// <returns>The table after them (generation and sequence unchanged).</returns>
    internal static ContextTable NextAll(ContextTable t, IReadOnlyList<ContextOperation> ops)
    {
        var next = t;
        foreach (var op in ops)
        {
            if (op.Kind == ContextOperationKind.Clear && ops.Count > 1)
            {
                throw new ArgumentException("Clearing an area cannot be batched with other operations.", nameof(ops));
            }

            next = Next(next, op);
        }

        return next;
    }

    private static void RefuseCurrent(ContextTable t, ContextArea area)
    {
        if (area == t.Current)
        {
            throw new CurrentContextWriteException(area);
        }
    }

    private static void RequireValidAlternate(ContextTable t, string what)
    {
        if (t.AlternateState != ContextState.Valid)
        {
            throw new ContextStateException(t.Alternate, t.AlternateState, $"The alternate {t.Alternate} is {t.AlternateState}; it must be valid to {what}.");
        }
    }
}
