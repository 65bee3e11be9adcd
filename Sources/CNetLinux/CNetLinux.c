/* Intentionally empty: the target exists to export CNetLinux.h. */
