<?php

/*
 * The people who sign in: two at the organization's verified domain, and one whose address is
 * at a domain the connection does not cover.
 */
$config = [
    'admin' => ['core:AdminPassword'],

    'staff' => [
        'exampleauth:UserPass',
        'alice:alice-password' => [
            'uid' => ['alice'],
            'email' => ['alice@acme.test'],
            'givenName' => ['Alice'],
            'sn' => ['Example'],
            'groups' => ['staff', 'engineering'],
        ],
        'bob:bob-password' => [
            'uid' => ['bob'],
            'email' => ['bob@acme.test'],
            'givenName' => ['Bob'],
            'sn' => ['Builder'],
            'groups' => ['staff', 'admins'],
        ],
        'mallory:mallory-password' => [
            'uid' => ['mallory'],
            'email' => ['mallory@elsewhere.test'],
            'givenName' => ['Mallory'],
            'sn' => ['Outsider'],
            'groups' => ['admins'],
        ],
    ],
];
