package io.readside.projection;

/** PostgreSQL advisory lock keys shared by parts of the engine (one place, so that no two collide). */
public final class AdvisoryLocks {

    /** One rebuild at a time across all instances ("readside" in ASCII); no new log is accepted meanwhile. */
    public static final long REBUILD = 0x7265616473696465L;

    private AdvisoryLocks() {
    }
}
