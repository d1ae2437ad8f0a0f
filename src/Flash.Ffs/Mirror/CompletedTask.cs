namespace Flash.Ffs.Mirror;

/// <summary>
/// The task form of work that waits for nothing (formatting, mounting, steps of a caller-held transaction that hold
/// their gate already): the work runs now, on the caller's thread, and its outcome, a failure included, is a completed
/// task (a cancellation too is the exception thrown, so its precise type survives the await).
/// </summary>
internal static class CompletedTask
{
    /// <summary>Runs <paramref name="work"/> and wraps its outcome.</summary>
    public static Task<T> Of<T>(Func<T> work)
    {
        try
        {
            return Task.FromResult(work());
        }
        catch (Exception ex)
        {
            return Task.FromException<T>(ex);
        }
    }

    /// <summary>Runs <paramref name="work"/> and wraps its outcome.</summary>
    public static Task Of(Action work)
    {
        try
        {
            work();
            return Task.CompletedTask;
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
        }
    }
}
