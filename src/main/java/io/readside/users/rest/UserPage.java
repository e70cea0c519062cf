package io.readside.users.rest;

import java.util.List;

/**
 * One page of users in id order. {@code next_after} is the cursor for the next page ({@code after=} it), null on
 * the last page; {@code next} is the same as a link.
 */
public record UserPage(List<UserView> users, Long nextAfter, String next) {
}
